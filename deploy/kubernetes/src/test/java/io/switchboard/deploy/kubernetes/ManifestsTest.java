package io.switchboard.deploy.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import io.switchboard.common.Config;
import io.switchboard.common.ConfigException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The manifests as Kubernetes would take them, without a Kubernetes: every overlay rendered, every object parsed
 * into the official model with unknown fields refused, and the references between objects, the probes, the config
 * file, the Hazelcast discovery settings and the drain timings checked against the code they configure.
 */
class ManifestsTest {
  /** Main's shutdown hook waits this long for Switchboard.close() (leave the cluster, close servers). */
  static final int LAUNCHER_CLOSE_WAIT_S = 20;
  static final String POD_IP = "10.1.2.3";

  @TempDir
  Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"overlays/single", "overlays/cluster", "monitoring"})
  void thisRendererAgreesWithKubectlWhereKubectlExists(String dir) throws IOException {
    List<ObjectNode> ours = Kustomize.java(dir);
    assertFalse(ours.isEmpty());
    if (!Kustomize.kubectlAvailable()) {
      // every other check renders with this renderer then; it is itself checked wherever kubectl is installed
      System.out.println("[kubernetes] kubectl not on the PATH: " + dir + " rendered by the Java renderer only");
      return;
    }
    Map<String, ObjectNode> theirs = byKindAndName(Kustomize.kubectl(dir));
    assertEquals(theirs.keySet(), byKindAndName(ours).keySet(), dir + ": the same objects");
    byKindAndName(ours).forEach((k, o) -> assertEquals(theirs.get(k), o, dir + ": " + k + " renders the same"));
  }

  private static Map<String, ObjectNode> byKindAndName(List<ObjectNode> objects) {
    Map<String, ObjectNode> out = new HashMap<>();
    for (ObjectNode o : objects) out.put(o.path("kind").asText() + "/" + o.path("metadata").path("name").asText(), o);
    return out;
  }

  @Test
  void strictParsingRefusesAnUnknownFieldAndAnUnknownKind() throws IOException {
    ObjectNode typo = Kustomize.parseDocuments("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: x}
        spec:
          replicas: 1
          selector: {matchLabels: {a: b}}
          template:
            metadata: {labels: {a: b}}
            spec:
              containers:
                - name: c
                  image: i
                  readinessProbe: {httpGet: {path: /health/ready, port: 9090}, periodSecond: 5}
        """).get(0);
    AssertionError e = assertThrows(AssertionError.class, () -> StrictModel.parse(typo));
    assertTrue(e.getMessage().contains("readinessProbe.periodSecond"), e.getMessage());
    ObjectNode unknownKind = Kustomize.parseDocuments("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n").get(0);
    assertThrows(AssertionError.class, () -> StrictModel.parse(unknownKind));
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/single", "overlays/cluster"})
  void selectorsMatchPodLabels(String dir) {
    Rendered r = new Rendered(dir);
    for (Deployment d : r.all(Deployment.class)) {
      assertTrue(Rendered.selects(d.getSpec().getSelector().getMatchLabels(), d.getSpec().getTemplate().getMetadata().getLabels()),
          dir + ": Deployment " + d.getMetadata().getName() + " selects its own pods");
    }
    for (var s : r.all(io.fabric8.kubernetes.api.model.apps.StatefulSet.class)) {
      assertTrue(Rendered.selects(s.getSpec().getSelector().getMatchLabels(), s.getSpec().getTemplate().getMetadata().getLabels()));
      assertNotNull(r.named(Service.class, s.getSpec().getServiceName()).orElse(null), "StatefulSet's serviceName exists");
    }
    for (Service s : r.all(Service.class)) {
      assertFalse(r.selected(s.getSpec().getSelector()).isEmpty(), dir + ": Service " + s.getMetadata().getName() + " selects pods");
    }
    for (PodDisruptionBudget p : r.all(PodDisruptionBudget.class)) {
      long workloads = r.podTemplates().values().stream()
          .filter(t -> Rendered.selects(p.getSpec().getSelector().getMatchLabels(), t.getMetadata().getLabels())).count();
      assertEquals(1, workloads, dir + ": PDB " + p.getMetadata().getName() + " covers exactly one workload");
    }
    for (NetworkPolicy n : r.all(NetworkPolicy.class)) {
      assertFalse(r.selected(n.getSpec().getPodSelector().getMatchLabels()).isEmpty(), dir + ": NetworkPolicy " + n.getMetadata().getName() + " applies to pods");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/single", "overlays/cluster"})
  void everyReferencedObjectAndPortExists(String dir) {
    Rendered r = new Rendered(dir);
    r.podTemplates().forEach((name, pod) -> {
      for (var v : pod.getSpec().getVolumes()) {
        if (v.getConfigMap() != null) r.configMapData(v.getConfigMap().getName());
        if (v.getSecret() != null) r.secretData(v.getSecret().getSecretName());
      }
      for (Container c : pod.getSpec().getContainers()) {
        r.environment(c, POD_IP); // resolves every secretKeyRef / configMapKeyRef or fails
        for (var m : c.getVolumeMounts()) {
          boolean declared = pod.getSpec().getVolumes().stream().anyMatch(v -> v.getName().equals(m.getName()))
              || r.all(io.fabric8.kubernetes.api.model.apps.StatefulSet.class).stream()
                  .filter(s -> s.getMetadata().getName().equals(name) && s.getSpec().getVolumeClaimTemplates() != null)
                  .flatMap(s -> s.getSpec().getVolumeClaimTemplates().stream()).anyMatch(t -> t.getMetadata().getName().equals(m.getName()));
          assertTrue(declared, dir + ": " + name + " mounts " + m.getName() + " which is declared");
        }
      }
    });
    // a Service's target port exists on every pod it selects
    for (Service s : r.all(Service.class)) {
      for (ServicePort p : s.getSpec().getPorts()) {
        for (PodTemplateSpec pod : r.selected(s.getSpec().getSelector())) {
          boolean found = pod.getSpec().getContainers().stream().anyMatch(c -> Rendered.port(c, p.getTargetPort()).isPresent());
          assertTrue(found, dir + ": Service " + s.getMetadata().getName() + " port " + p.getName() + " targets a port of " + pod.getMetadata().getLabels());
        }
      }
    }
    // a NetworkPolicy's named ports exist on the pods it selects
    for (NetworkPolicy n : r.all(NetworkPolicy.class)) {
      for (var rule : n.getSpec().getIngress()) {
        if (rule.getPorts() == null) continue;
        for (NetworkPolicyPort p : rule.getPorts()) {
          for (PodTemplateSpec pod : r.selected(n.getSpec().getPodSelector().getMatchLabels())) {
            assertTrue(pod.getSpec().getContainers().stream().anyMatch(c -> Rendered.port(c, p.getPort()).isPresent()),
                dir + ": NetworkPolicy " + n.getMetadata().getName() + " port " + p.getPort() + " exists on " + pod.getMetadata().getLabels());
          }
        }
      }
    }
    for (HorizontalPodAutoscaler h : r.all(HorizontalPodAutoscaler.class)) {
      assertEquals("Deployment", h.getSpec().getScaleTargetRef().getKind());
      assertTrue(r.named(Deployment.class, h.getSpec().getScaleTargetRef().getName()).isPresent(), "HPA target exists");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/single", "overlays/cluster"})
  void probesAskTheOperationsPort(String dir) {
    Rendered r = new Rendered(dir);
    r.podTemplates().forEach((name, pod) -> {
      for (Container c : pod.getSpec().getContainers()) {
        assertNotNull(c.getReadinessProbe(), dir + ": " + name + " has a readiness probe");
        assertNotNull(c.getLivenessProbe(), dir + ": " + name + " has a liveness probe");
        if (!Rendered.isSwitchboard(c)) continue;
        JsonObject config = effectiveConfig(r, pod, c);
        int ops = config.getJsonObject("operations").getInteger("port");
        assertHttpProbe(c, c.getReadinessProbe(), "/health/ready", ops, dir + " " + name + " readiness");
        assertHttpProbe(c, c.getLivenessProbe(), "/health/live", ops, dir + " " + name + " liveness");
        assertHttpProbe(c, c.getStartupProbe(), "/health/live", ops, dir + " " + name + " startup");
        assertEquals("true", pod.getMetadata().getAnnotations().get("prometheus.io/scrape"));
        assertEquals(Integer.toString(ops), pod.getMetadata().getAnnotations().get("prometheus.io/port"));
        assertEquals("/metrics", pod.getMetadata().getAnnotations().get("prometheus.io/path"));
      }
    });
  }

  private static void assertHttpProbe(Container c, Probe p, String path, int port, String what) {
    assertNotNull(p, what);
    assertNotNull(p.getHttpGet(), what + " is an HTTP GET");
    assertEquals(path, p.getHttpGet().getPath(), what);
    ContainerPort cp = Rendered.port(c, p.getHttpGet().getPort()).orElseThrow(() -> new AssertionError(what + ": no such container port"));
    assertEquals(port, cp.getContainerPort(), what + " on the operations port");
  }

  /** The config the JVM in this container loads: the mounted file named by --config, then its environment. */
  private JsonObject effectiveConfig(Rendered r, PodTemplateSpec pod, Container c) {
    String path = Rendered.arg(c, "--config");
    assertNotNull(path, "the container passes --config");
    try {
      Path file = Files.createTempDirectory(tmp, "cfg").resolve(Path.of(path).getFileName().toString());
      Files.writeString(file, r.mountedFile(pod, c, path));
      return Config.load(file, r.environment(c, POD_IP));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/single", "overlays/cluster"})
  void theConfigFileIsAcceptedBySwitchboardsLoaderAndMatchesThePorts(String dir) {
    Rendered r = new Rendered(dir);
    r.podTemplates().forEach((name, pod) -> {
      for (Container c : pod.getSpec().getContainers()) {
        if (!Rendered.isSwitchboard(c)) continue;
        JsonObject config = effectiveConfig(r, pod, c);
        assertEquals("redis", config.getString("engine"), dir + " " + name);
        // the Redis URL names a Service of this overlay on its port
        URI redis = URI.create(config.getJsonObject("redis").getString("url"));
        Service rs = r.service(redis.getHost());
        assertTrue(rs.getSpec().getPorts().stream().anyMatch(p -> p.getPort() == redis.getPort()), "Redis Service port " + redis.getPort());
        Map<String, Integer> ports = new HashMap<>();
        for (ContainerPort p : c.getPorts()) ports.put(p.getName(), p.getContainerPort());
        assertEquals(config.getJsonObject("operations").getInteger("port"), ports.get("ops"));
        String services = Rendered.arg(c, "--services");
        if (services == null || services.contains("gateway")) assertEquals(config.getJsonObject("gateway").getInteger("port"), ports.get("ws"));
        if (services == null || services.contains("auth")) assertEquals(config.getJsonObject("auth").getInteger("port"), ports.get("auth"));
        if (c.getArgs().contains("--cluster")) {
          assertEquals(config.getJsonObject("cluster").getInteger("port"), ports.get("hazelcast"), "Hazelcast port");
          assertEquals(config.getJsonObject("cluster").getInteger("eventBusPort"), ports.get("eventbus"), "event bus port");
          assertEquals(POD_IP, config.getJsonObject("cluster").getString("host"), dir + " " + name + " advertises the pod IP");
        }
      }
    });
  }

  @Test
  void theValidatorTheseChecksRelyOnRefusesATypo() throws IOException {
    Rendered r = new Rendered("overlays/cluster");
    String yaml = r.configMapData("switchboard-config").get("switchboard.yaml").replace("kubernetesServiceDns:", "kubernetesServiceDNS:");
    Path file = tmp.resolve("typo.yaml");
    Files.writeString(file, yaml);
    ConfigException e = assertThrows(ConfigException.class, () -> Config.load(file, Map.of()));
    assertEquals("cluster.kubernetesServiceDNS", e.key());
  }

  @Test
  void hazelcastDiscoveryNamesTheHeadlessServiceOfEveryClusteredPod() {
    Rendered r = new Rendered("overlays/cluster");
    Set<String> roles = new HashSet<>();
    r.podTemplates().forEach((name, pod) -> {
      for (Container c : pod.getSpec().getContainers()) {
        if (!Rendered.isSwitchboard(c)) continue;
        assertTrue(c.getArgs().contains("--cluster"), name + " runs clustered");
        roles.add(Rendered.arg(c, "--services"));
        JsonObject cluster = effectiveConfig(r, pod, c).getJsonObject("cluster");
        String dns = cluster.getString("kubernetesServiceDns");
        String serviceName = dns.split("\\.")[0];
        Service hs = r.service(serviceName);
        assertEquals("None", hs.getSpec().getClusterIP(), "headless");
        assertEquals(Boolean.TRUE, hs.getSpec().getPublishNotReadyAddresses(), "starting pods are listed before they are ready");
        assertTrue(Rendered.selects(hs.getSpec().getSelector(), pod.getMetadata().getLabels()), serviceName + " lists " + name);
        assertTrue(hs.getSpec().getPorts().stream().anyMatch(p -> p.getPort().equals(cluster.getInteger("port"))), "Hazelcast port on the Service");
        // Hazelcast's DNS discovery dials each address on cluster.port (ClusterSetup sets service-port to it), and
        // each pod's Hazelcast listens there: the pods' hazelcast container port is checked against it above
        assertTrue(dns.equals(serviceName) || dns.startsWith(serviceName + "."), dns);
      }
    });
    assertEquals(Set.of("gateway", "auth", "store", "presence"), roles);
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/single", "overlays/cluster"})
  void gracePeriodCoversPreStopDrainAndClose(String dir) throws ReflectiveOperationException {
    var f = Class.forName("io.switchboard.gateway.GatewayVerticle").getDeclaredField("DRAIN_MS");
    f.setAccessible(true);
    long drainMs = f.getLong(null);
    Rendered r = new Rendered(dir);
    int gateways = 0;
    for (Deployment d : r.all(Deployment.class)) {
      PodTemplateSpec pod = d.getSpec().getTemplate();
      if (!"true".equals(pod.getMetadata().getLabels().get("switchboard.io/gateway"))) continue;
      gateways++;
      Container c = pod.getSpec().getContainers().get(0);
      long preStop = c.getLifecycle().getPreStop().getSleep().getSeconds();
      assertTrue(preStop >= 3, "preStop leaves time for the endpoint removal to spread");
      long grace = pod.getSpec().getTerminationGracePeriodSeconds();
      assertTrue(grace * 1000 >= preStop * 1000 + drainMs + LAUNCHER_CLOSE_WAIT_S * 1000L,
          dir + ": grace " + grace + " s covers preStop " + preStop + " s + drain " + drainMs + " ms + close " + LAUNCHER_CLOSE_WAIT_S + " s");
      if (d.getSpec().getStrategy().getRollingUpdate() != null) {
        assertEquals(0, d.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal(), "a rollout never removes capacity first");
      }
    }
    assertTrue(gateways > 0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/single", "overlays/cluster"})
  void podsRunAsNonRootWithSizedResources(String dir) {
    Rendered r = new Rendered(dir);
    Set<String> images = new HashSet<>();
    r.podTemplates().forEach((name, pod) -> {
      assertEquals(Boolean.TRUE, pod.getSpec().getSecurityContext().getRunAsNonRoot(), name);
      assertTrue(pod.getSpec().getSecurityContext().getRunAsUser() > 0, name);
      for (Container c : pod.getSpec().getContainers()) {
        if (Rendered.isSwitchboard(c)) images.add(c.getImage());
        Map<String, Quantity> req = c.getResources().getRequests();
        Map<String, Quantity> lim = c.getResources().getLimits();
        assertNotNull(req.get("cpu"), name + " requests CPU (the HPA's utilisation is relative to it)");
        // memory request == limit: the pod is never the first evicted under memory pressure, and the JVM's
        // MaxRAMPercentage is a share of a fixed number
        assertEquals(req.get("memory"), lim.get("memory"), name + " memory request == limit");
        assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation(), name);
      }
    });
    assertEquals(1, images.size(), "one image for every role: " + images);
  }

  @Test
  void gatewaysSpreadAndScaleOnCpuAndConnections() {
    Rendered r = new Rendered("overlays/cluster");
    Deployment gw = r.named(Deployment.class, "switchboard-gateway").orElseThrow();
    var anti = gw.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
    assertTrue(Rendered.selects(anti.get(0).getPodAffinityTerm().getLabelSelector().getMatchLabels(), gw.getSpec().getTemplate().getMetadata().getLabels()));
    HorizontalPodAutoscaler hpa = r.named(HorizontalPodAutoscaler.class, "switchboard-gateway").orElseThrow();
    List<String> metrics = new ArrayList<>();
    hpa.getSpec().getMetrics().forEach(m -> metrics.add(m.getResource() != null ? m.getResource().getName() : m.getPods().getMetric().getName()));
    assertEquals(List.of("cpu", "switchboard_connections"), metrics);
    assertTrue(hpa.getSpec().getMinReplicas() >= 2, "two gateways at least: one can drain while the other serves");
  }

  @Test
  void monitoringSelectsTheOperationsServiceOfBothOverlays() {
    Rendered m = new Rendered("monitoring");
    ServiceMonitor sm = m.all(ServiceMonitor.class).get(0);
    assertEquals(1, m.all(PrometheusRule.class).size());
    for (String dir : List.of("overlays/single", "overlays/cluster")) {
      Rendered r = new Rendered(dir);
      List<Service> selected = r.all(Service.class).stream()
          .filter(s -> Rendered.selects(sm.getSpec().getSelector().getMatchLabels(), s.getMetadata().getLabels())).toList();
      assertEquals(1, selected.size(), dir + ": one Service carries the metrics");
      Service ops = selected.get(0);
      for (var ep : sm.getSpec().getEndpoints()) {
        assertTrue(ops.getSpec().getPorts().stream().anyMatch(p -> p.getName().equals(ep.getPort())), "endpoint port " + ep.getPort());
        assertEquals("/metrics", ep.getPath());
      }
      long switchboardPods = r.podTemplates().values().stream()
          .filter(t -> t.getSpec().getContainers().stream().anyMatch(Rendered::isSwitchboard)).count();
      assertEquals(switchboardPods, r.selected(ops.getSpec().getSelector()).size(), dir + ": every Switchboard pod is scraped, nothing else");
    }
  }
}
