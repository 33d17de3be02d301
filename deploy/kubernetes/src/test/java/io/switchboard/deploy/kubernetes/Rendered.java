package io.switchboard.deploy.kubernetes;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One overlay rendered and parsed strictly into the Kubernetes model, with the look-ups the checks need: pod
 * templates, Services, Secrets and ConfigMaps by name, and a container's environment and config file as the pod
 * would see them.
 */
public final class Rendered {
  final String dir;
  final List<HasMetadata> objects = new ArrayList<>();

  public Rendered(String dir) {
    this.dir = dir;
    for (ObjectNode o : Kustomize.render(dir)) objects.add(StrictModel.parse(o));
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    List<T> out = new ArrayList<>();
    for (HasMetadata o : objects) if (type.isInstance(o)) out.add(type.cast(o));
    return out;
  }

  public <T extends HasMetadata> Optional<T> named(Class<T> type, String name) {
    return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst();
  }

  /** Every pod template (Deployments and StatefulSets) by its workload's name. */
  Map<String, PodTemplateSpec> podTemplates() {
    Map<String, PodTemplateSpec> out = new LinkedHashMap<>();
    for (Deployment d : all(Deployment.class)) out.put(d.getMetadata().getName(), d.getSpec().getTemplate());
    for (StatefulSet s : all(StatefulSet.class)) out.put(s.getMetadata().getName(), s.getSpec().getTemplate());
    return out;
  }

  static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    if (selector == null || selector.isEmpty()) return true;
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (labels == null || !e.getValue().equals(labels.get(e.getKey()))) return false;
    }
    return true;
  }

  /** The pod templates a Service (or any label selector) selects. */
  List<PodTemplateSpec> selected(Map<String, String> selector) {
    List<PodTemplateSpec> out = new ArrayList<>();
    for (PodTemplateSpec t : podTemplates().values()) if (selects(selector, t.getMetadata().getLabels())) out.add(t);
    return out;
  }

  static boolean isSwitchboard(Container c) {
    return c.getImage().startsWith("switchboard:") || c.getImage().contains("/switchboard:");
  }

  static Optional<ContainerPort> port(Container c, IntOrString ref) {
    return c.getPorts().stream()
        .filter(p -> ref.getStrVal() != null ? ref.getStrVal().equals(p.getName()) : ref.getIntVal().equals(p.getContainerPort()))
        .findFirst();
  }

  public Map<String, String> secretData(String name) {
    Secret s = named(Secret.class, name).orElseThrow(() -> new AssertionError(dir + ": no Secret " + name));
    Map<String, String> out = new LinkedHashMap<>();
    if (s.getData() != null) s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    if (s.getStringData() != null) out.putAll(s.getStringData());
    return out;
  }

  Map<String, String> configMapData(String name) {
    ConfigMap c = named(ConfigMap.class, name).orElseThrow(() -> new AssertionError(dir + ": no ConfigMap " + name));
    return c.getData() == null ? Map.of() : c.getData();
  }

  /**
   * The container's environment as the kubelet would build it: literal values, Secret and ConfigMap keys, and the
   * downward API ({@code status.podIP} becomes {@code podIp}). A missing Secret, ConfigMap or key fails.
   */
  public Map<String, String> environment(Container c, String podIp) {
    Map<String, String> env = new LinkedHashMap<>();
    if (c.getEnvFrom() != null) {
      c.getEnvFrom().forEach(f -> {
        if (f.getConfigMapRef() != null) env.putAll(configMapData(f.getConfigMapRef().getName()));
        if (f.getSecretRef() != null) env.putAll(secretData(f.getSecretRef().getName()));
      });
    }
    for (EnvVar v : c.getEnv()) {
      if (v.getValueFrom() == null) {
        env.put(v.getName(), v.getValue() == null ? "" : v.getValue());
      } else if (v.getValueFrom().getSecretKeyRef() != null) {
        var ref = v.getValueFrom().getSecretKeyRef();
        Map<String, String> data = secretData(ref.getName());
        if (!data.containsKey(ref.getKey())) throw new AssertionError(dir + ": Secret " + ref.getName() + " has no key " + ref.getKey());
        env.put(v.getName(), data.get(ref.getKey()));
      } else if (v.getValueFrom().getConfigMapKeyRef() != null) {
        var ref = v.getValueFrom().getConfigMapKeyRef();
        Map<String, String> data = configMapData(ref.getName());
        if (!data.containsKey(ref.getKey())) throw new AssertionError(dir + ": ConfigMap " + ref.getName() + " has no key " + ref.getKey());
        env.put(v.getName(), data.get(ref.getKey()));
      } else if (v.getValueFrom().getFieldRef() != null) {
        String field = v.getValueFrom().getFieldRef().getFieldPath();
        if (!field.equals("status.podIP")) throw new AssertionError(dir + ": unexpected downward API field " + field);
        env.put(v.getName(), podIp);
      } else {
        throw new AssertionError(dir + ": unsupported valueFrom in " + v.getName());
      }
    }
    return env;
  }

  /** The value after {@code flag} in the container's args, or null. */
  public static String arg(Container c, String flag) {
    List<String> args = c.getArgs();
    int i = args.indexOf(flag);
    return i < 0 || i + 1 >= args.size() ? null : args.get(i + 1);
  }

  /** The text of the file at {@code path} inside the container: a key of a ConfigMap volume mounted above it. */
  public String mountedFile(PodTemplateSpec pod, Container c, String path) {
    for (VolumeMount m : c.getVolumeMounts()) {
      String dirPrefix = m.getMountPath().endsWith("/") ? m.getMountPath() : m.getMountPath() + "/";
      if (!path.startsWith(dirPrefix)) continue;
      Volume v = pod.getSpec().getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst()
          .orElseThrow(() -> new AssertionError(dir + ": volumeMount " + m.getName() + " has no volume"));
      if (v.getConfigMap() == null) throw new AssertionError(dir + ": " + path + " is not on a ConfigMap volume");
      String key = path.substring(dirPrefix.length());
      Map<String, String> data = configMapData(v.getConfigMap().getName());
      if (!data.containsKey(key)) throw new AssertionError(dir + ": ConfigMap " + v.getConfigMap().getName() + " has no key " + key);
      return data.get(key);
    }
    throw new AssertionError(dir + ": nothing is mounted at " + path);
  }

  Service service(String name) {
    return named(Service.class, name).orElseThrow(() -> new AssertionError(dir + ": no Service " + name));
  }
}
