package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code scale}: a whole cluster on one box (deploy/local/cluster: gateways, the services JVM, Redis) holds N idle
 * subscribers spread evenly over the gateways, then publishes R/s spread over C channels. Reports the connections
 * each gateway counts, RSS and CPU of every process (opening, idle, publishing), and the fan-out bus messages per
 * publish against what routing must cost: one message per gateway with a subscriber of the channel, never one per
 * subscriber. Every delivery is accounted for: deliveries counted = Σ publishes × subscribers of their channel,
 * and no subscriber has a gap, a duplicate or lacks anything at the end.
 *
 * <p>Subscriber g (0-based over all workers) takes channel {@code g % C} and gateway {@code g % gateways} (see
 * {@link Generator#openSubscribers}), so which gateways have a channel's subscribers is known here exactly.
 */
final class ScaleScenario implements Scenario {
  /** The RSS budget of the whole server side (every JVM and Redis) in the target. */
  static final long RSS_BUDGET_BYTES = 3L << 30;
  /**
   * JVM options of the gateways in {@code loadtest scale}: ~19k connections need ~230 MB of live heap at ~12 KB each,
   * so twice that as the bound; the serial collector keeps the footprint small on a 2-core box where a gateway
   * shares the cores with four other JVMs (no concurrent GC threads, no remembered sets).
   */
  static final String GATEWAY_JVM_OPTS = "-Xmx512m -XX:+UseSerialGC -Xss512k";

  @Override
  public String name() {
    return "scale";
  }

  @Override
  public Set<String> knobs() {
    return Set.of("connections", "channels", "rate", "publishers", "settle", "idle");
  }

  private static int maxConnections(Options o) {
    return o.bounded("gateways", 2, 1, 3) * Scenario.maxServerConnections();
  }

  @Override
  public void validate(Options o) {
    if (!o.string("server", "").equals("cluster")) {
      throw new IllegalArgumentException("scale runs against a local cluster: --server cluster (or use 'loadtest scale')");
    }
    o.bounded("connections", 57_000, 1, maxConnections(o));
    o.bounded("channels", 10_000, 1, 1_000_000);
    o.bounded("publishers", 4, 1, 64);
    double rate = o.number("rate", 1000);
    if (rate <= 0 || rate > 100_000) throw new IllegalArgumentException("--rate must be between 0 and 100,000 publishes/s");
    if (o.number("duration", 20) <= 0 || o.number("duration", 20) > 600) throw new IllegalArgumentException("--duration must be 1..600 seconds");
  }

  @Override
  public JsonObject run(Target target, Options o, Path outDir, long deadlineMillis) throws Exception {
    if (!(target instanceof SwitchboardTarget st) || st.roles().isEmpty()) {
      throw new IllegalStateException("scale needs a local cluster target (--server cluster)");
    }
    int n = o.bounded("connections", 57_000, 1, maxConnections(o));
    int channelCount = Math.min(n, o.bounded("channels", 10_000, 1, 1_000_000));
    double rate = o.number("rate", 1000);
    int payload = o.bounded("payload", 100, 16, 60_000);
    int publishers = Math.min(o.bounded("publishers", 4, 1, 64), channelCount);
    int concurrency = o.bounded("concurrency", 200, 1, 5_000);
    double duration = o.number("duration", 20);
    double settle = o.number("settle", 3);
    double idle = o.number("idle", 5);
    int gateways = target.ports().size();
    Map<String, Long> roles = st.roles();
    String run = Scenario.runId();
    List<String> channels = new ArrayList<>();
    for (int i = 0; i < channelCount; i++) channels.add(target.protocol().channelPrefix() + run + "-" + i);
    // which gateways have subscribers of each channel, and how many subscribers it has (see the class comment)
    int[] gatewayMask = new int[channelCount];
    int[] subscribersOf = new int[channelCount];
    for (int g = 0; g < n; g++) {
      gatewayMask[g % channelCount] |= 1 << (g % gateways);
      subscribersOf[g % channelCount]++;
    }
    List<String> tokens = target.tokens(Math.min(n, o.bounded("tokens", 8, 1, 100_000)), "lt-scale-" + run);
    List<String> pubTokens = target.tokens(publishers, "lt-scalepub-" + run);
    JsonObject result = new JsonObject().put("scenario", name()).put("connections", n).put("channels", channelCount)
        .put("gateways", gateways).put("rate", rate).put("payloadBytes", payload).put("publishers", publishers)
        .put("roles", new JsonObject(new LinkedHashMap<String, Object>(roles)));
    try (Generator g = Generator.start(target, o, n, outDir, deadlineMillis)) {
      result.put("workers", g.subscribers.size()).put("perWorker", n / g.subscribers.size() + (n % g.subscribers.size() > 0 ? 1 : 0));
      JsonObject phases = new JsonObject();

      // 1. open every subscriber: CPU of each process while connecting
      Map<String, Double> cpu0 = cpu(roles);
      long t0 = System.nanoTime();
      JsonObject open = g.openSubscribers(n, channels, tokens, concurrency, "sub");
      result.put("open", open);
      if (open.getLong("opened") < n) {
        throw new IllegalStateException("only " + open.getLong("opened") + " of " + n + " subscribers connected: " + open.getJsonArray("errors"));
      }
      g.openPublishers(publishers, pubTokens);
      long counted = Scenario.awaitServerConnections(target, n + publishers, 60_000);
      phases.put("open", cores(roles, cpu0, t0));
      result.put("serverConnections", counted).put("connectionsByGateway", new JsonObject(new LinkedHashMap<String, Object>(
          st.meterByRole("switchboard_connections"))));
      System.err.println("loadtest: scale: " + open.getLong("opened") + " subscribers open in " + open.getDouble("seconds") + " s ("
          + open.getDouble("perSecond") + "/s); the gateways count " + counted + " connections");

      // 2. idle: RSS of every process, CPU at rest
      Target.sleep((long) (settle * 1000));
      cpu0 = cpu(roles);
      t0 = System.nanoTime();
      Target.sleep((long) (idle * 1000));
      phases.put("idle", cores(roles, cpu0, t0));
      JsonObject rssIdle = rss(roles);
      result.put("rssIdleBytes", rssIdle).put("rssIdleTotalBytes", total(rssIdle))
          .put("rssWithinBudget", total(rssIdle) <= RSS_BUDGET_BYTES);

      // 3. publish: R/s over C channels, measured from the first publish to the last delivery
      double received0 = sum(st.meterByRole("switchboard_fanout_messages_received_total"));
      double sent0 = sum(st.meterByRole("switchboard_fanout_messages_sent_total"));
      WorkerHandle.callAll(g.all(), new JsonObject().put("op", "mark"), 60);
      cpu0 = cpu(roles);
      t0 = System.nanoTime();
      Window window = new Window(target.pids(), g.pids());
      g.publisher.call(new JsonObject().put("op", "publish").put("rate", rate).put("payload", payload)
          .put("channels", new JsonArray(channels)).put("seconds", duration), 60);
      Target.sleep((long) (duration * 1000));
      JsonObject measured = window.end();
      phases.put("publish", cores(roles, cpu0, t0));
      JsonObject stop = g.publisher.call(new JsonObject().put("op", "stop-publish"), 60);
      DeliveryScenario.drain(g);
      JsonObject fin = stop.getJsonObject("final");
      List<JsonObject> snaps = WorkerHandle.callAll(g.all(), new JsonObject().put("op", "collect"), 120);
      DeliveryScenario.Merged m = DeliveryScenario.Merged.of(snaps);
      double received = sum(st.meterByRole("switchboard_fanout_messages_received_total")) - received0;
      double sent = sum(st.meterByRole("switchboard_fanout_messages_sent_total")) - sent0;
      JsonObject rssAfter = rss(roles);

      // what routing must cost, from the stored heads (offsets count a fresh channel's publishes from 1)
      long stored = 0;
      long expectedBus = 0;
      long expectedDeliveries = 0;
      int[] channelsByGatewayCount = new int[gateways + 1];
      for (int c = 0; c < channelCount; c++) {
        long published = fin.getLong(channels.get(c), 0L);
        int withSubscribers = Integer.bitCount(gatewayMask[c]);
        stored += published;
        expectedBus += published * withSubscribers;
        expectedDeliveries += published * subscribersOf[c];
        channelsByGatewayCount[withSubscribers]++;
      }
      JsonObject bus = new JsonObject().put("publishesStored", stored).put("messagesReceivedByGateways", (long) received)
          .put("messagesSent", (long) sent).put("expectedMessages", expectedBus)
          .put("perPublish", stored > 0 ? Report.round(received / stored, 4) : null)
          .put("expectedPerPublish", stored > 0 ? Report.round(expectedBus / (double) stored, 4) : null)
          .put("subscribersPerPublish", stored > 0 ? Report.round(expectedDeliveries / (double) stored, 4) : null)
          .put("channelsByGatewaysWithSubscribers", new JsonArray(java.util.Arrays.stream(channelsByGatewayCount).boxed().toList()));
      result.put("phases", phases).put("rssAfterPublishBytes", rssAfter).put("fanoutBus", bus)
          // over the publisher's schedule (exactly `duration` seconds, see Publishing), not the measured window,
          // which also holds the command's round trip and the sleep's overshoot
          .put("publish", new JsonObject().put("publishedPerSecond", Report.round(m.published / duration, 1))
              .put("scheduledSends", Math.round(rate * duration))
              .put("storedPublishes", stored).put("deliveries", m.deliveries).put("expectedDeliveries", expectedDeliveries)
              .put("skippedSends", m.skipped).put("publishErrors", m.publishErrors).put("latencyMs", Report.percentiles(m.latency))
              .put("publishAckMs", Report.percentiles(m.ackLatency)).put("window", measured))
          .put("integrity", DeliveryScenario.integrity(g, fin));
      System.err.println("loadtest: scale: " + stored + " publishes stored, " + m.deliveries + " of " + expectedDeliveries
          + " deliveries, bus messages per publish " + bus.getValue("perPublish") + " (expected " + bus.getValue("expectedPerPublish") + ")");
      WorkerHandle.callAll(g.all(), new JsonObject().put("op", "close"), 120);
    }
    return result;
  }

  private static Map<String, Double> cpu(Map<String, Long> roles) {
    Map<String, Double> out = new LinkedHashMap<>();
    roles.forEach((role, pid) -> out.put(role, ProcStats.cpuSeconds(pid)));
    return out;
  }

  /** Cores each process used since {@code cpu0} was taken at {@code t0}, plus their total. */
  private static JsonObject cores(Map<String, Long> roles, Map<String, Double> cpu0, long t0) {
    double secs = (System.nanoTime() - t0) / 1e9;
    JsonObject by = new JsonObject();
    double all = 0;
    for (Map.Entry<String, Double> e : cpu(roles).entrySet()) {
      double c = (e.getValue() - cpu0.getOrDefault(e.getKey(), 0.0)) / secs;
      by.put(e.getKey(), Report.round(c, 3));
      all += c;
    }
    return new JsonObject().put("seconds", Report.round(secs, 2)).put("cores", by).put("totalCores", Report.round(all, 3));
  }

  private static JsonObject rss(Map<String, Long> roles) {
    JsonObject out = new JsonObject();
    roles.forEach((role, pid) -> out.put(role, ProcStats.rssBytes(pid)));
    return out;
  }

  private static long total(JsonObject bytes) {
    long t = 0;
    for (String k : bytes.fieldNames()) t += bytes.getLong(k);
    return t;
  }

  private static double sum(Map<String, Double> values) {
    double s = 0;
    for (double v : values.values()) s += v;
    return s;
  }

  @Override
  public List<Metric> headline(JsonObject r) {
    List<Metric> m = new ArrayList<>();
    m.add(new Metric("connections counted by the gateways", r.getLong("serverConnections"), true));
    m.add(new Metric("connects/s while opening", r.getJsonObject("open").getDouble("perSecond"), true));
    m.add(new Metric("server cores while opening", r.getJsonObject("phases").getJsonObject("open").getDouble("totalCores"), false));
    JsonObject idle = r.getJsonObject("rssIdleBytes");
    m.add(new Metric("RSS total idle (MiB)", Report.round(r.getLong("rssIdleTotalBytes") / 1048576.0, 1), false));
    for (String role : idle.fieldNames()) m.add(new Metric("RSS idle " + role + " (MiB)", Report.round(idle.getLong(role) / 1048576.0, 1), false));
    JsonObject after = r.getJsonObject("rssAfterPublishBytes");
    m.add(new Metric("RSS total after publishing (MiB)", Report.round(total(after) / 1048576.0, 1), false));
    m.add(new Metric("server cores idle", r.getJsonObject("phases").getJsonObject("idle").getDouble("totalCores"), false));
    JsonObject pub = r.getJsonObject("phases").getJsonObject("publish");
    m.add(new Metric("server cores publishing", pub.getDouble("totalCores"), false));
    for (String role : pub.getJsonObject("cores").fieldNames()) {
      m.add(new Metric("cores publishing " + role, pub.getJsonObject("cores").getDouble(role), false));
    }
    JsonObject p = r.getJsonObject("publish");
    m.add(new Metric("publishes/s", p.getDouble("publishedPerSecond"), true));
    m.add(new Metric("deliveries counted", p.getLong("deliveries"), true));
    m.add(new Metric("deliveries expected", p.getLong("expectedDeliveries"), true));
    m.add(new Metric("latency p50 ms", p.getJsonObject("latencyMs").getDouble("p50", Double.NaN), false));
    m.add(new Metric("latency p99 ms", p.getJsonObject("latencyMs").getDouble("p99", Double.NaN), false));
    JsonObject bus = r.getJsonObject("fanoutBus");
    m.add(new Metric("bus messages per publish", bus.getDouble("perPublish", Double.NaN), false));
    m.add(new Metric("gateways with a subscriber per publish", bus.getDouble("expectedPerPublish", Double.NaN), false));
    m.add(new Metric("subscribers per publish", bus.getDouble("subscribersPerPublish", Double.NaN), false));
    m.add(new Metric("messages missed", r.getJsonObject("integrity").getLong("missed"), false));
    m.add(new Metric("duplicates", r.getJsonObject("integrity").getLong("duplicates"), false));
    return m;
  }
}
