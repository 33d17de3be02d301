package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.switchboard.deploy.kubernetes.Rendered;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The cluster overlay's pods as real JVMs on loopback, with the environment, arguments and config file the rendered
 * manifests give them. What differs from a pod is only what one machine forces: each "pod IP" is an address
 * 127.a.b.N (every JVM binds Hazelcast 5701 and the event bus 5801 on its own address, as pods do), the headless
 * Service's DNS name resolves through a hosts file ({@code -Djdk.net.hosts.file}) to those addresses (and
 * {@code -Dhazelcast.local.localAddress} names the address, which is no interface's own here), the HTTP ports
 * are moved apart, Redis is the test's, the admin key is filled in as an operator does, and one JVM runs the store,
 * presence and auth roles (with the auth Deployment's environment) to save a JVM on a 2-core CI machine.
 *
 * <p>Then a rolling restart as the Deployment's strategy and timings do it (maxSurge 1, maxUnavailable 0, preStop
 * sleep, SIGTERM, the grace period as the deadline), under steady publishing: nothing lost or duplicated, every
 * client back within 5 s.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubernetesClusterTest {
  private static final String OVERLAY = "overlays/cluster";
  private static final long CLIENT_OUTAGE_LIMIT_MS = 5_000;

  private TestRedis redis;
  private ClusterProcesses cluster;
  private Rendered rendered;
  private String net;
  private Path hostsFile;
  private Path workDir;
  private ClusterProcesses.Node core;
  private final List<ClusterProcesses.Node> gateways = new ArrayList<>();
  private Vertx vertx;
  private WebSocketClient ws;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() throws Exception {
    rendered = new Rendered(OVERLAY);
    redis = TestRedis.dedicated();
    cluster = new ClusterProcesses(redis.url(), Map.of(
        "SWITCHBOARD_GATEWAY_PUBLISH_RATE_PER_SECOND", "100000",
        "SWITCHBOARD_GATEWAY_PUBLISH_BURST", "100000"));
    workDir = Files.createDirectories(Path.of("target", "k8s-pods"));
    // a random 127.a.b.0/24 so concurrent runs on one machine do not meet on 5701
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    net = "127." + (1 + rnd.nextInt(250)) + "." + (1 + rnd.nextInt(250)) + ".";
    String dns = clusterConfigDns();
    StringBuilder hosts = new StringBuilder("127.0.0.1 localhost " + InetAddress.getLocalHost().getHostName() + "\n");
    // like the headless Service with publishNotReadyAddresses: every pod's address, started or not yet
    for (int i = 1; i <= 5; i++) hosts.append(net).append(i).append(' ').append(dns).append('\n');
    hostsFile = workDir.resolve("hosts");
    Files.writeString(hostsFile, hosts);
    for (int i = 1; i <= 5; i++) requireFree(net + i, 5701, 5801);
    vertx = Vertx.vertx();
    ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(10_000));
  }

  @AfterAll
  void stop() {
    if (cluster != null) cluster.close();
    if (vertx != null) Await.result(vertx.close());
    if (redis != null) redis.stop();
  }

  private String clusterConfigDns() {
    Deployment gw = rendered.named(Deployment.class, "switchboard-gateway").orElseThrow();
    Container c = gw.getSpec().getTemplate().getSpec().getContainers().get(0);
    String file = rendered.mountedFile(gw.getSpec().getTemplate(), c, Rendered.arg(c, "--config"));
    String dns = new JsonObject(new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
        .convertValue(readYaml(file), Map.class)).getJsonObject("cluster").getString("kubernetesServiceDns");
    assertNotNull(dns);
    return dns;
  }

  private static Object readYaml(String text) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readValue(text, Map.class);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static void requireFree(String host, int... ports) throws IOException {
    for (int port : ports) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(host, port));
      } catch (IOException e) {
        throw new IOException(host + ":" + port + " is taken (another Hazelcast on 0.0.0.0:" + port + "?): " + e.getMessage(), e);
      }
    }
  }

  /**
   * Starts the JVM of one pod of a Deployment: its container's args (the config path moved to a real file holding
   * the ConfigMap's text) and env (Secrets, ConfigMaps and the pod IP resolved), plus the test plumbing above.
   */
  private ClusterProcesses.Node startPod(String name, String deployment, String services, int address) throws IOException {
    Deployment d = rendered.named(Deployment.class, deployment).orElseThrow();
    PodTemplateSpec pod = d.getSpec().getTemplate();
    Container c = pod.getSpec().getContainers().get(0);
    String configPath = Rendered.arg(c, "--config");
    assertEquals(List.of("--config", configPath, "--cluster", "--services", Rendered.arg(c, "--services")), c.getArgs(),
        "the pod's command line is the one this test reproduces");
    Path config = workDir.resolve(name + "-" + Path.of(configPath).getFileName());
    Files.writeString(config, rendered.mountedFile(pod, c, configPath));
    Map<String, String> env = new HashMap<>(rendered.environment(c, net + address));
    if ("".equals(env.get("SWITCHBOARD_ADMIN_KEY"))) env.put("SWITCHBOARD_ADMIN_KEY", ClusterProcesses.ADMIN_KEY);
    // the common test environment's member list, port and cluster name would override the config file: drop them
    env.put("SWITCHBOARD_CLUSTER_MEMBERS", null);
    env.put("SWITCHBOARD_CLUSTER_PORT", null);
    env.put("SWITCHBOARD_CLUSTER_NAME", null);
    // 127.a.b.N is routable but not an interface address, which Hazelcast's interface matching wants (a pod IP is
    // one): name it as the local address instead
    List<String> flags = List.of("-Djdk.net.hosts.file=" + hostsFile.toAbsolutePath(), "-Dhazelcast.local.localAddress=" + net + address,
        "-Dorg.slf4j.simpleLogger.log.com.hazelcast.internal.cluster=info");
    return cluster.start(name, services == null ? Rendered.arg(c, "--services") : services, env, flags,
        List.of("--config", config.toAbsolutePath().toString()));
  }

  @Test
  @Order(1)
  void threeJvmsFindEachOtherThroughTheHeadlessServiceName() throws Exception {
    core = startPod("core", "switchboard-auth", "store,presence,auth", 1);
    gateways.add(startPod("gateway-1", "switchboard-gateway", null, 2));
    gateways.add(startPod("gateway-2", "switchboard-gateway", null, 3));
    core.awaitReady();
    for (ClusterProcesses.Node g : gateways) g.awaitReady();
    for (ClusterProcesses.Node n : List.of(core, gateways.get(0), gateways.get(1))) {
      Await.until(n.name + " sees 3 members (log: " + n.log + ")", Duration.ofSeconds(30), () -> logHas(n, "Members {size:3"));
      assertTrue(logHas(n, net), n.name + " advertises its pod address");
    }
  }

  private static boolean logHas(ClusterProcesses.Node n, String text) {
    try {
      return Files.readString(n.log).contains(text);
    } catch (IOException e) {
      return false;
    }
  }

  private String token(String subject) throws Exception {
    JsonObject body = new JsonObject().put("subject", subject).put("grants", TestServer.allGrants());
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + core.authPort + "/v1/tokens"))
        .header("x-api-key", ClusterProcesses.ADMIN_KEY).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body()).getString("token");
  }

  @Test
  @Order(2)
  void rollingRestartOfEveryGatewayLosesNothing() throws Exception {
    assertEquals(2, gateways.size(), "the cluster of the first test runs");
    Deployment gw = rendered.named(Deployment.class, "switchboard-gateway").orElseThrow();
    var podSpec = gw.getSpec().getTemplate().getSpec();
    long preStopS = podSpec.getContainers().get(0).getLifecycle().getPreStop().getSleep().getSeconds();
    long graceS = podSpec.getTerminationGracePeriodSeconds();
    assertEquals(1, gw.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal());
    assertEquals(0, gw.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal());

    // the ws Service's endpoints: ready gateways only; a pod leaves them when its deletion starts
    List<Integer> endpoints = new CopyOnWriteArrayList<>(List.of(gateways.get(0).wsPort, gateways.get(1).wsPort));
    List<String> channels = new ArrayList<>();
    for (int i = 0; i < 20; i++) channels.add("roll:" + i);
    String subscriberToken = token("roll-subscriber");
    List<TrackingClient> trackers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      List<String> mine = new ArrayList<>();
      for (int k = 0; k < 4; k++) mine.add(channels.get((i * 4 + k) % channels.size()));
      TrackingClient t = new TrackingClient("roll" + i, vertx, ws, subscriberToken, mine, endpoints);
      t.start();
      trackers.add(t);
    }
    for (TrackingClient t : trackers) Await.until(t.name + " subscribed", t::subscribed);

    long t0 = System.nanoTime();
    Publisher pub = new Publisher(token("roll-publisher"), channels, endpoints);
    pub.start();
    Await.until("traffic flowing", () -> pub.published() > 100);
    for (int i = 0; i < 2; i++) {
      ClusterProcesses.Node old = gateways.get(i);
      // maxSurge 1, maxUnavailable 0: the new pod is ready before the old one goes
      ClusterProcesses.Node fresh = startPod("gateway-" + (i + 3), "switchboard-gateway", null, 4 + i);
      fresh.awaitReady();
      endpoints.set(i, fresh.wsPort);
      // the kubelet runs the preStop hook (a sleep) before SIGTERM; this wait IS that hook, not a test delay
      Thread.sleep(preStopS * 1000);
      long term = System.nanoTime();
      old.terminate(Duration.ofSeconds(graceS - preStopS));
      System.out.println("[measure] " + old.name + " exited " + (System.nanoTime() - term) / 1_000_000 + " ms after SIGTERM (budget "
          + (graceS - preStopS) + " s)");
      gateways.set(i, fresh);
      int before = pub.published();
      Await.until("traffic after replacing " + old.name, Duration.ofSeconds(30), () -> pub.published() > before + 100);
    }
    Map<String, Long> finals = pub.stop();
    Map<String, Integer> sent = pub.perChannel();

    for (TrackingClient t : trackers) Await.until(t.name + " caught up: " + t, Duration.ofSeconds(30), () -> t.caughtUp(finals));
    for (TrackingClient t : trackers) t.stop();
    long worst = 0;
    for (TrackingClient t : trackers) {
      synchronized (t) {
        assertEquals(0, t.lost, "lost: " + t);
        assertEquals(0, t.duplicated, "duplicated or out of order: " + t);
        assertEquals(0, t.unrecovered, "unrecoverable positions: " + t);
        assertTrue(t.closeCodes.contains(4504), "drained with 4504: " + t);
        assertTrue(t.longestOutageMs < CLIENT_OUTAGE_LIMIT_MS, "back within 5 s: " + t);
        worst = Math.max(worst, t.longestOutageMs);
      }
    }
    // a publish retried after a drain carries the same idempotencyKey: the store kept it once, so the last offset
    // of each channel is exactly the number of distinct publications sent to it
    for (String ch : channels) assertEquals((long) sent.get(ch), finals.get(ch), "stored once each on " + ch);
    assertTrue(pub.longestOutageMs < CLIENT_OUTAGE_LIMIT_MS, "publisher back within 5 s: " + pub.longestOutageMs);
    System.out.println("[measure] rolling restart of 2 gateways: " + pub.published() + " publications, " + pub.retries
        + " retried, longest subscriber outage " + worst + " ms, publisher " + pub.longestOutageMs + " ms, "
        + (System.nanoTime() - t0) / 1_000_000 + " ms in all");
  }

  /**
   * Publishes round-robin over the channels, one at a time, through the endpoint list; when its connection drops
   * it reconnects to the next endpoint and resends the publication it had not seen answered, with the same
   * idempotencyKey (as a careful client does).
   */
  private final class Publisher {
    private final String token;
    private final List<String> channels;
    private final List<Integer> endpoints;
    private final Context context = vertx.getOrCreateContext();
    private final Map<String, Long> finals = new ConcurrentHashMap<>();
    private final Map<String, Integer> perChannel = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private volatile boolean idle;
    private volatile int published;
    private int endpoint;
    private int seq;
    private int requestId;
    private WebSocket socket;
    private long lostAtNanos;
    volatile long longestOutageMs;
    volatile int retries;
    private long watchdog = -1;

    Publisher(String token, List<String> channels, List<Integer> endpoints) {
      this.token = token;
      this.channels = channels;
      this.endpoints = endpoints;
    }

    int published() {
      return published;
    }

    void start() {
      context.runOnContext(v -> connect());
    }

    private void connect() {
      int port = endpoints.get(endpoint % endpoints.size());
      ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws")).onComplete(ar -> {
        if (ar.failed()) {
          endpoint++;
          vertx.setTimer(100, t -> connect());
          return;
        }
        WebSocket s = ar.result();
        socket = s;
        s.textMessageHandler(this::onFrame);
        s.closeHandler(x -> onClose(s));
        s.writeTextMessage(new JsonObject().put("type", "request").put("id", "c").put("method", "connect")
            .put("params", new JsonObject().put("token", token)).encode());
      });
    }

    private void onClose(WebSocket s) {
      if (s != socket) return;
      socket = null;
      if (lostAtNanos == 0) lostAtNanos = System.nanoTime();
      if (watchdog >= 0) vertx.cancelTimer(watchdog);
      if (!running) {
        idle = true;
        return;
      }
      endpoint++;
      vertx.setTimer(50, t -> connect());
    }

    private void onFrame(String text) {
      JsonObject f = new JsonObject(text);
      if (!"response".equals(f.getString("type"))) return;
      if ("c".equals(f.getString("id"))) {
        if (f.containsKey("error")) throw new IllegalStateException("connect refused: " + f.encode());
        if (lostAtNanos != 0) {
          longestOutageMs = Math.max(longestOutageMs, (System.nanoTime() - lostAtNanos) / 1_000_000);
          lostAtNanos = 0;
          retries++;
        }
        send();
      } else if (("p" + requestId).equals(f.getString("id"))) {
        if (watchdog >= 0) vertx.cancelTimer(watchdog);
        if (f.containsKey("error")) {
          // e.g. unavailable while a node leaves: resend the same publication (same key) shortly
          vertx.setTimer(50, t -> send());
          return;
        }
        String ch = channels.get(seq % channels.size());
        finals.put(ch, f.getJsonObject("result").getLong("offset"));
        perChannel.merge(ch, 1, Integer::sum);
        seq++;
        published++;
        if (!running) {
          idle = true;
          return;
        }
        vertx.setTimer(5, t -> send());
      }
    }

    /** Sends publication {@code seq} (again, after a reconnect): its idempotencyKey is its sequence number. */
    private void send() {
      if (socket == null) return;
      String ch = channels.get(seq % channels.size());
      requestId++;
      socket.writeTextMessage(new JsonObject().put("type", "request").put("id", "p" + requestId).put("method", "publish")
          .put("params", new JsonObject().put("channel", ch).put("event", "tick").put("data", seq)
              .put("idempotencyKey", "roll-" + seq)).encode());
      WebSocket s = socket;
      // an answer lost with its connection is covered by the close; one lost otherwise by this watchdog
      watchdog = vertx.setTimer(5_000, t -> {
        if (s == socket) s.close();
      });
    }

    /** Stops after the publication in flight is answered; returns the last offset per channel. */
    Map<String, Long> stop() {
      running = false;
      Await.until("publisher idle", Duration.ofSeconds(20), () -> idle);
      context.runOnContext(v -> {
        if (socket != null) socket.close();
      });
      return Map.copyOf(finals);
    }

    Map<String, Integer> perChannel() {
      return Map.copyOf(perChannel);
    }
  }
}
