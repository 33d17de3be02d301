package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * Switchboard under test: the launcher jar started as a child JVM (memory or Redis engine; for Redis a private
 * redis-server is started too and its CPU counts as server CPU), or one already running, given by URLs.
 *
 * <p>Load settings: per-connection publish limits are lifted (the generator publishes thousands per second from
 * one connection), the rest are the defaults a user gets. The {@code bench} namespace and the personal
 * {@code user} namespace have presence and join/leave off unless {@code --presence} is given — with them on, N
 * subscribers of one channel cost N² join events while they connect, which would measure set-up, not delivery.
 */
final class SwitchboardTarget extends Target {
  static final String ADMIN_KEY = "loadtest-admin-key";
  static final String LEAN_NAMESPACES =
      "{\"bench\":{\"presence\":false,\"joinLeave\":false},\"user\":{\"presence\":false,\"joinLeave\":false}}";

  private final String engine;
  private final boolean presence;
  private final List<Integer> gatewayPorts = new ArrayList<>();
  private final String authUrl;
  private final List<String> metricsUrls = new ArrayList<>();
  private LocalCluster cluster;
  private final String adminKey;
  private final List<Long> pids = new ArrayList<>();
  private final Process process;
  private final RedisProcess redis;
  private final JsonObject description = new JsonObject();
  /** A name for an external target in tables and plots (--label), e.g. switchboard-cluster. */
  private String label;
  /** How subscribers speak to it (--protocol): native, or centrifuge (Centrifuge clients, native publishers). */
  private String protocolName = "native";
  /** Clients speak Pusher protocol 7 (/app/{key}) instead of the native protocol. */
  private boolean pusher;

  private SwitchboardTarget(String engine, boolean presence, int gatewayPort, String authUrl, String metricsUrl, String adminKey,
      Process process, RedisProcess redis) {
    this.engine = engine;
    this.presence = presence;
    this.gatewayPorts.add(gatewayPort);
    this.authUrl = authUrl;
    if (metricsUrl != null) this.metricsUrls.add(metricsUrl);
    this.adminKey = adminKey;
    this.process = process;
    this.redis = redis;
  }

  /** A Switchboard jar under test; {@code label} is "" for the default one, else it names the target. */
  record Jar(String label, Path path) {}

  /** The Pusher app every Pusher-protocol target (Switchboard and Soketi) is configured with. */
  static final String PUSHER_APP_ID = "default";
  static final String PUSHER_KEY = "app-key";
  static final String PUSHER_SECRET = "app-secret-123";
  /** With Pusher's channel names (no namespace) the channels are in the default namespace: lean like bench. */
  static final String PUSHER_NAMESPACES =
      "{\"\":{\"presence\":false,\"joinLeave\":false},\"user\":{\"presence\":false,\"joinLeave\":false}}";

  /** The default app's key when clients speak PubNub (sub_key and pub_key are the app key). */
  static final String PUBNUB_KEY = "lt-pubnub-key";

  /** Starts the default jar with the given engine, native protocol. */
  static SwitchboardTarget start(Options o, String engine, Path outDir) throws IOException {
    return start(o, engine, jars(o).get(0), false, outDir);
  }

  /** As {@link #start(Options, String, Jar, boolean, Path)}, subscribers speaking {@code protocol} (null: --protocol). */
  static SwitchboardTarget start(Options o, String engine, Jar jar, String protocol, Path outDir) throws IOException {
    return start(o, engine, jar, false, protocol, outDir);
  }

  /**
   * Starts {@code jar} with the given engine; waits until /health/ready answers. With {@code pusher} the clients
   * speak Pusher protocol 7 to one configured app ({@link #PUSHER_KEY}) and publish through its HTTP API.
   */
  static SwitchboardTarget start(Options o, String engine, Jar jar, boolean pusher, Path outDir) throws IOException {
    return start(o, engine, jar, pusher, null, outDir);
  }

  private static SwitchboardTarget start(Options o, String engine, Jar jar, boolean pusher, String protocol, Path outDir) throws IOException {
    String speaks = pusher ? "pusher" : protocol != null ? protocol : o.string("protocol", "native");
    boolean presence = o.flag("presence");
    RedisProcess redis = engine.equals("redis") ? RedisProcess.start(outDir) : null;
    int gw = freePort();
    int auth = freePort();
    int ops = freePort();
    List<String> cmd = Launch.java();
    cmd.addAll(o.words("server-jvm-opts"));
    cmd.addAll(jarJvmOptions(o, jar));
    cmd.addAll(List.of("-jar", jar.path().toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("SWITCHBOARD_"));
    env.put("SWITCHBOARD_ENGINE", engine);
    if (redis != null) env.put("SWITCHBOARD_REDIS_URL", redis.url());
    env.put("SWITCHBOARD_ADMIN_KEY", ADMIN_KEY);
    env.put("SWITCHBOARD_GATEWAY_HOST", "127.0.0.1");
    env.put("SWITCHBOARD_GATEWAY_PORT", Integer.toString(gw));
    env.put("SWITCHBOARD_AUTH_HOST", "127.0.0.1");
    env.put("SWITCHBOARD_AUTH_PORT", Integer.toString(auth));
    env.put("SWITCHBOARD_OPERATIONS_HOST", "127.0.0.1");
    env.put("SWITCHBOARD_OPERATIONS_PORT", Integer.toString(ops));
    if (speaks.equals("pubnub")) {
      // PubNub clients name the app by its key: the default app gets one (tokens stay the default app's)
      env.put("SWITCHBOARD_APPS", new JsonArray().add(new JsonObject().put("id", "default").put("key", PUBNUB_KEY)
          .put("secret", "lt-pubnub-secret-0123")).encode());
    }
    if (pusher) {
      env.put("SWITCHBOARD_APPS", new JsonArray().add(new JsonObject().put("id", PUSHER_APP_ID).put("key", PUSHER_KEY)
          .put("secret", PUSHER_SECRET)).encode());
    }
    env.putAll(loadSettings(o, pusher));
    String name = (pusher ? "pusher-" : "") + engine + (jar.label().isEmpty() ? "" : "-" + jar.label())
        + (pusher || speaks.equals("native") ? "" : "-" + speaks);
    Path log = outDir.resolve("switchboard-" + name + ".log");
    Process p = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    Launch.track(p);
    SwitchboardTarget t = new SwitchboardTarget(engine, presence, gw, "http://127.0.0.1:" + auth,
        "http://127.0.0.1:" + ops + "/metrics", ADMIN_KEY, p, redis);
    t.pusher = pusher;
    t.protocolName = speaks;
    t.label = "switchboard-" + name;
    t.pids.add(p.pid());
    if (redis != null) t.pids.add(redis.pid());
    try {
      awaitReady("http://127.0.0.1:" + ops + "/health/ready", p, log, 120_000);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
    JsonObject settings = new JsonObject();
    env.forEach((k, v) -> {
      if (k.startsWith("SWITCHBOARD_") && !k.endsWith("_PORT") && !k.endsWith("_HOST")) settings.put(k, v);
    });
    t.description.put("jar", jar.path().toString()).put("engine", engine).put("protocol", pusher ? "pusher" : "native")
        .put("env", settings).put("jvmOptions", new JsonArray(new ArrayList<>(cmd.subList(Launch.java().size(), cmd.indexOf("-jar")))));
    if (!jar.label().isEmpty()) t.description.put("jarLabel", jar.label());
    return protocol == null ? t.speaking(o) : t.speaking(protocol);
  }

  /**
   * {@code --jar-jvm-opts LABEL=OPTS} (repeatable): JVM options for the Switchboard jar of that label only, after
   * {@code --server-jvm-opts} — e.g. GC settings side by side in one compare, the baselines keeping theirs.
   */
  static List<String> jarJvmOptions(Options o, Jar jar) {
    List<String> out = new ArrayList<>();
    for (String v : o.list("jar-jvm-opts")) {
      int eq = v.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException("--jar-jvm-opts takes LABEL=OPTIONS, got '" + v + "'");
      if (!v.substring(0, eq).equals(jar.label())) continue;
      String opts = v.substring(eq + 1).trim();
      if (!opts.isEmpty()) out.addAll(List.of(opts.split("\\s+")));
    }
    return out;
  }

  /**
   * The jars under test: {@code --switchboard-jar [LABEL=]PATH}, repeatable (each jar is a target of its own, named
   * {@code switchboard-<engine>-LABEL}; at most one without a label); default launcher/target/switchboard.jar.
   */
  static List<Jar> jars(Options o) {
    List<Jar> jars = new ArrayList<>();
    java.util.Set<String> labels = new java.util.HashSet<>();
    for (String v : o.list("switchboard-jar")) {
      String label = "";
      String path = v;
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("([a-z0-9][a-z0-9-]{0,30})=(.+)").matcher(v);
      if (m.matches()) {
        label = m.group(1);
        path = m.group(2);
      }
      if (!labels.add(label)) {
        throw new IllegalArgumentException(label.isEmpty() ? "--switchboard-jar: give every jar but one a label (LABEL=PATH)"
            : "--switchboard-jar: label '" + label + "' is used twice");
      }
      jars.add(new Jar(label, Path.of(path).toAbsolutePath()));
    }
    if (jars.isEmpty()) jars.add(new Jar("", Launch.root().resolve("launcher/target/switchboard.jar")));
    for (Jar j : jars) {
      if (!Files.exists(j.path())) {
        throw new IllegalStateException("no Switchboard jar at " + j.path() + " — build it first: mvn -B -q -DskipTests package");
      }
    }
    return jars;
  }

  static Path jar(Options o) {
    return jars(o).get(0).path();
  }

  /** The settings every Switchboard under test gets: lifted publish limits, lean namespaces, --server-env. */
  static Map<String, String> loadSettings(Options o) {
    return loadSettings(o, false);
  }

  static Map<String, String> loadSettings(Options o, boolean pusher) {
    Map<String, String> env = new java.util.LinkedHashMap<>();
    env.put("SWITCHBOARD_GATEWAY_PUBLISH_RATE_PER_SECOND", "1000000");
    env.put("SWITCHBOARD_GATEWAY_PUBLISH_BURST", "1000000");
    if (!o.flag("presence")) env.put("SWITCHBOARD_CHANNELS_NAMESPACES", pusher ? PUSHER_NAMESPACES : LEAN_NAMESPACES);
    for (String kv : o.list("server-env")) {
      int eq = kv.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException("--server-env takes KEY=VALUE, got '" + kv + "'");
      env.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return env;
  }

  /**
   * The local cluster of cluster mode (deploy/local/cluster) with {@code --gateways} gateway JVMs (default 2):
   * subscribers are spread over the gateways, the publisher uses the first; server CPU is every JVM plus Redis.
   */
  static SwitchboardTarget cluster(Options o, Path outDir) throws IOException {
    Map<String, String> settings = loadSettings(o);
    settings.put("SWITCHBOARD_ADMIN_KEY", ADMIN_KEY);
    if (!o.words("server-jvm-opts").isEmpty()) settings.put("SB_JAVA_OPTS", String.join(" ", o.words("server-jvm-opts")));
    if (!o.words("gateway-jvm-opts").isEmpty()) settings.put("SB_GATEWAY_JAVA_OPTS", String.join(" ", o.words("gateway-jvm-opts")));
    boolean oneServicesJvm = o.flag("one-services-jvm");
    LocalCluster c = LocalCluster.start(jar(o), o.bounded("gateways", 2, 1, 3), oneServicesJvm, settings, outDir);
    SwitchboardTarget t = new SwitchboardTarget("cluster", o.flag("presence"), c.gatewayPorts.get(0),
        "http://127.0.0.1:" + c.authPort, null, ADMIN_KEY, null, null);
    t.cluster = c;
    for (int i = 1; i < c.gatewayPorts.size(); i++) t.gatewayPorts.add(c.gatewayPorts.get(i));
    // connections are counted by the gateway JVMs (the last ones started)
    c.roleOps.forEach((role, ops) -> {
      if (role.startsWith("gateway-")) t.metricsUrls.add("http://127.0.0.1:" + ops + "/metrics");
    });
    t.pids.addAll(c.pids);
    JsonObject env = new JsonObject();
    settings.forEach(env::put);
    t.description.put("cluster", "deploy/local/cluster start --gateways " + c.gatewayPorts.size() + (oneServicesJvm ? " --one-services-jvm" : ""))
        .put("runDir", c.run.toString()).put("roles", new JsonObject(new java.util.LinkedHashMap<String, Object>(c.rolePids)))
        .put("engine", "redis").put("env", env).put("jvmPids", new JsonArray(c.jvmPids)).put("jar", jar(o).toString());
    return t.speaking(o);
  }

  /**
   * A Switchboard already running on loopback: {@code --target-ws} (a comma list for the gateways of a cluster;
   * subscribers are spread over them, publishers use the first), {@code --target-auth}, {@code --admin-key},
   * {@code --server-pids} (every process whose CPU is the server's: all JVMs of a cluster, and its redis-server).
   */
  static SwitchboardTarget external(Options o) {
    List<URI> urls = new ArrayList<>();
    for (String u : o.names("target-ws", "")) urls.add(URI.create(u));
    if (urls.isEmpty()) throw new IllegalArgumentException("--target-ws needs a ws:// URL");
    for (URI u : urls) Options.requireLoopback(u.getHost(), "--target-ws");
    URI ws = urls.get(0);
    URI auth = URI.create(o.string("target-auth", "http://127.0.0.1:8081"));
    Options.requireLoopback(auth.getHost(), "--target-auth");
    String metrics = o.string("target-metrics", null);
    SwitchboardTarget t = new SwitchboardTarget("external", o.flag("presence"), ws.getPort(), auth.toString().replaceAll("/$", ""),
        metrics, o.string("admin-key", System.getenv().getOrDefault("SWITCHBOARD_ADMIN_KEY", "")), null, null);
    for (int i = 1; i < urls.size(); i++) t.gatewayPorts.add(urls.get(i).getPort());
    for (String pid : o.list("server-pids")) for (String p : pid.split(",")) if (!p.isBlank()) t.pids.add(Long.parseLong(p.trim()));
    String label = o.string("label", null);
    if (label != null) {
      if (!label.startsWith("switchboard")) throw new IllegalArgumentException("--label must start with 'switchboard', got '" + label + "'");
      t.label = label;
    }
    t.description.put("external", o.string("target-ws", "")).put("pids", new JsonArray(t.pids));
    return t.speaking(o);
  }

  @Override
  String label() {
    if (label != null) return label;
    return "switchboard-" + engine + (protocolName.equals("native") ? "" : "-" + protocolName);
  }

  String authUrl() {
    return authUrl;
  }

  String metricsUrl() {
    return metricsUrls.isEmpty() ? null : metricsUrls.get(0);
  }

  @Override
  Protocol protocol() {
    if (pusher) return new PusherProtocol(PUSHER_APP_ID, PUSHER_KEY, PUSHER_SECRET);
    return Protocol.of(protocolName, new JsonObject().put("key", PUBNUB_KEY));
  }

  private SwitchboardTarget speaking(Options o) {
    return speaking(pusher ? "pusher" : o.string("protocol", "native"));
  }

  private SwitchboardTarget speaking(String protocol) {
    protocolName = protocol;
    if (!pusher) Protocol.of(protocolName, new JsonObject()); // refuses unknown names now
    if (!List.of("pusher", "native", "centrifuge", "sse", "longpoll", "pubnub").contains(protocolName)) {
      throw new IllegalArgumentException("--protocol " + protocolName + " is not one Switchboard speaks (native, centrifuge, sse, longpoll, pubnub)");
    }
    description.put("protocol", protocolName);
    return this;
  }

  @Override
  int port() {
    return gatewayPorts.get(0);
  }

  @Override
  List<Integer> ports() {
    return gatewayPorts;
  }

  @Override
  List<Long> pids() {
    return pids;
  }

  /** Mints tokens through POST /v1/tokens, 16 requests at a time. */
  @Override
  List<String> tokens(int count, String prefix) {
    if (pusher) return java.util.Collections.nCopies(count, ""); // public channels: the app key is all it takes
    Semaphore inFlight = new Semaphore(16);
    List<CompletableFuture<String>> fs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      JsonObject body = new JsonObject().put("subject", prefix + "-" + i).put("ttl", 7200)
          .put("grants", new JsonArray().add(new JsonObject().put("channel", "bench:*")
              .put("capabilities", new JsonArray().add("subscribe").add("publish").add("history").add("presence"))));
      HttpRequest req = HttpRequest.newBuilder(URI.create(authUrl + "/v1/tokens")).timeout(Duration.ofSeconds(30))
          .header("x-api-key", adminKey).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build();
      inFlight.acquireUninterruptibly();
      fs.add(HTTP.sendAsync(req, HttpResponse.BodyHandlers.ofString()).whenComplete((r, t) -> inFlight.release())
          .thenApply(r -> {
            if (r.statusCode() / 100 != 2) throw new IllegalStateException("token request failed: " + r.statusCode() + " " + r.body());
            return new JsonObject(r.body()).getString("token");
          }));
    }
    List<String> tokens = new ArrayList<>();
    for (CompletableFuture<String> f : fs) tokens.add(f.join());
    return tokens;
  }

  /** Every server process by role in cluster mode (services or store/presence/auth, gateway-1…, redis); else empty. */
  Map<String, Long> roles() {
    return cluster == null ? Map.of() : cluster.rolePids;
  }

  /**
   * One meter on every JVM of a cluster, by role: the sum of the samples whose name is {@code name} (any tags);
   * a JVM that does not export it is left out.
   */
  Map<String, Double> meterByRole(String name) {
    Map<String, Double> out = new java.util.LinkedHashMap<>();
    if (cluster == null) return out;
    cluster.roleOps.forEach((role, ops) -> {
      double sum = 0;
      boolean found = false;
      try {
        for (String line : get("http://127.0.0.1:" + ops + "/metrics").split("\n")) {
          if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
            sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            found = true;
          }
        }
      } catch (IOException | InterruptedException | RuntimeException e) {
        throw new IllegalStateException("could not read " + name + " from " + role + ": " + e.getMessage(), e);
      }
      if (found) out.put(role, sum);
    });
    return out;
  }

  /** The sum of {@code switchboard_connections} over the gateway JVMs, or -1 when unknown. */
  @Override
  long serverConnections() {
    if (metricsUrls.isEmpty()) return -1;
    long sum = 0;
    for (String url : metricsUrls) {
      long n = -1;
      try {
        for (String line : get(url).split("\n")) {
          if (line.startsWith("switchboard_connections")) {
            n = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            break;
          }
        }
      } catch (IOException | InterruptedException | RuntimeException e) {
        return -1;
      }
      if (n < 0) return -1;
      sum += n;
    }
    return sum;
  }

  @Override
  JsonObject memory() {
    JsonObject m = new JsonObject();
    if (cluster != null) {
      long heap = 0;
      long rss = 0;
      for (long pid : cluster.jvmPids) {
        heap += ProcStats.jvmHeapAfterGc(pid);
        rss += ProcStats.rssBytes(pid);
      }
      return m.put("heapBytes", heap).put("rssBytes", rss).put("redisRssBytes", ProcStats.rssBytes(cluster.pids.get(cluster.pids.size() - 1)));
    }
    if (process != null) {
      m.put("heapBytes", ProcStats.jvmHeapAfterGc(process.pid()));
      m.put("rssBytes", ProcStats.rssBytes(process.pid()));
    } else if (pids.size() == 1) {
      m.put("heapBytes", ProcStats.jvmHeapAfterGc(pids.get(0)));
      m.put("rssBytes", ProcStats.rssBytes(pids.get(0)));
    }
    if (redis != null) m.put("redisRssBytes", ProcStats.rssBytes(redis.pid()));
    return m;
  }

  @Override
  Map<String, long[]> classHistogram() {
    if (cluster != null) return new HashMap<>();
    if (process != null) return ProcStats.classHistogram(process.pid());
    return pids.size() == 1 ? ProcStats.classHistogram(pids.get(0)) : new HashMap<>();
  }

  /** Writes the one server JVM's live heap to {@code file} (hprof; for offline analysis of what a client holds). */
  void heapDump(Path file) {
    long pid = process != null ? process.pid() : pids.size() == 1 ? pids.get(0) : -1;
    if (pid < 0) throw new IllegalStateException("a heap dump needs one server JVM");
    ProcStats.jcmd(pid, "GC.heap_dump", file.toAbsolutePath().toString());
  }

  @Override
  JsonObject describe() {
    return description.copy().put("presence", presence);
  }

  @Override
  public void close() {
    stop(process, 20_000);
    if (redis != null) redis.close();
    if (cluster != null) cluster.close();
  }
}
