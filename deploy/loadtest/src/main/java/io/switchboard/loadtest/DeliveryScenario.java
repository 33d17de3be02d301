package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.HdrHistogram.Histogram;

/**
 * {@code fanout}: S subscribers on one channel, publish rate R, payload P — deliveries/s, publish→deliver latency,
 * server CPU. {@code channels}: many channels with one (or a few) subscribers each, the rate spread over them —
 * stored publishes/s (publishes the server answered with an offset) and latency.
 *
 * <p>{@code --rate} takes one rate or a sweep ({@code 100,200,400}); each step publishes open-loop for warmup +
 * duration and measures the duration only (the first step warms up for at least 10 s: the server's JIT compiler
 * threads would otherwise count as its CPU). A sweep stops early once a step is saturated (delivered rate below 95%
 * of offered, p99 over a second, or the generator skipping sends), unless {@code --keep-going}.
 */
final class DeliveryScenario implements Scenario {
  private final boolean fanout;

  DeliveryScenario(boolean fanout) {
    this.fanout = fanout;
  }

  @Override
  public String name() {
    return fanout ? "fanout" : "channels";
  }

  @Override
  public Set<String> knobs() {
    return fanout ? Set.of("subscribers", "rate", "keep-going", "warmup-first")
        : Set.of("channels", "subscribers-per-channel", "rate", "publishers", "keep-going", "warmup-first");
  }

  private int channels(Options o) {
    return fanout ? 1 : o.bounded("channels", 1000, 1, 100_000);
  }

  private int perChannel(Options o) {
    return fanout ? o.bounded("subscribers", 1000, 1, Scenario.maxServerConnections())
        : o.bounded("subscribers-per-channel", 1, 1, Scenario.maxServerConnections());
  }

  @Override
  public void validate(Options o) {
    long subs = (long) channels(o) * perChannel(o);
    if (subs > Scenario.maxServerConnections()) {
      throw new IllegalArgumentException(subs + " subscribers is more than one server process can hold here ("
          + Scenario.maxServerConnections() + ", from its open-file limit)");
    }
    for (double r : rates(o)) if (r <= 0 || r > 1_000_000) throw new IllegalArgumentException("--rate must be between 0 and 1,000,000 publishes/s");
    o.bounded("payload", 100, 16, 60_000);
    o.bounded("publishers", 4, 1, 64);
    if (o.number("duration", 20) <= 0 || o.number("duration", 20) > 3600) throw new IllegalArgumentException("--duration must be 1..3600 seconds");
  }

  private List<Double> rates(Options o) {
    return o.numbers("rate", fanout ? "100" : "1000");
  }

  @Override
  public JsonObject run(Target target, Options o, Path outDir, long deadlineMillis) throws Exception {
    int channelCount = channels(o);
    int perChannel = perChannel(o);
    int subs = channelCount * perChannel;
    int payload = o.bounded("payload", 100, 16, 60_000);
    int publishers = Math.min(o.bounded("publishers", fanout ? 1 : 4, 1, 64), channelCount);
    double duration = o.number("duration", 20);
    double warmup = o.number("warmup", 5);
    // the first step also warms the server's JIT, whose compiler threads would count as server CPU
    double warmupFirst = o.number("warmup-first", Math.max(warmup, 10));
    int concurrency = o.bounded("concurrency", 200, 1, 5_000);
    String run = Scenario.runId();
    List<String> channels = new ArrayList<>();
    for (int i = 0; i < channelCount; i++) channels.add(target.protocol().channelPrefix() + run + "-" + i);
    List<String> subTokens = target.tokens(Math.min(subs, o.bounded("tokens", 8, 1, 100_000)), "lt-sub-" + run);
    List<String> pubTokens = target.tokens(publishers, "lt-pub-" + run);

    JsonObject result = new JsonObject().put("scenario", name()).put("channels", channelCount)
        .put("subscribersPerChannel", perChannel).put("subscribers", subs).put("payloadBytes", payload)
        .put("publishers", publishers).put("durationSeconds", duration).put("warmupSeconds", warmup);
    try (Generator g = Generator.start(target, o, subs, outDir, deadlineMillis)) {
      result.put("workers", g.subscribers.size());
      JsonObject open = g.openSubscribers(subs, channels, subTokens, concurrency, "sub");
      result.put("open", open);
      if (open.getLong("opened") < subs) {
        throw new IllegalStateException("only " + open.getLong("opened") + " of " + subs + " subscribers connected: " + open.getJsonArray("errors"));
      }
      g.openPublishers(publishers, pubTokens);
      result.put("serverConnections", target.serverConnections());
      JsonArray steps = new JsonArray();
      JsonObject last = new JsonObject();
      List<Double> rates = rates(o);
      for (int i = 0; i < rates.size(); i++) {
        JsonObject step = step(g, target, rates.get(i), channels, perChannel, payload, i == 0 ? warmupFirst : warmup, duration, last);
        steps.add(step);
        System.err.println("loadtest: " + target.label() + " " + name() + " rate " + Report.fmt(rates.get(i)) + "/s: "
            + Report.fmt(step.getDouble("deliveriesPerSecond")) + " deliveries/s, p99 " + step.getJsonObject("latencyMs").getValue("p99")
            + " ms, server " + step.getDouble("serverCores") + " cores");
        if (step.getBoolean("saturated") && i + 1 < rates.size() && !o.flag("keep-going")) {
          result.put("sweepStopped", "saturated at " + rates.get(i) + " publishes/s");
          break;
        }
      }
      result.put("steps", steps);
      result.put("integrity", integrity(g, last));
      WorkerHandle.callAll(g.all(), new JsonObject().put("op", "close"), 120);
    }
    return result;
  }

  private JsonObject step(Generator g, Target target, double rate, List<String> channels, int perChannel, int payload,
      double warmup, double duration, JsonObject last) {
    g.publisher.call(new JsonObject().put("op", "publish").put("rate", rate).put("payload", payload)
        .put("channels", new JsonArray(channels)).put("seconds", warmup + duration + 60).put("startSeq", last), 60);
    Target.sleep((long) (warmup * 1000));
    WorkerHandle.callAll(g.all(), new JsonObject().put("op", "mark"), 60);
    Window window = new Window(target.pids(), g.pids());
    Target.sleep((long) (duration * 1000));
    List<JsonObject> snaps = WorkerHandle.callAll(g.all(), new JsonObject().put("op", "collect"), 120);
    JsonObject measured = window.end();
    JsonObject stop = g.publisher.call(new JsonObject().put("op", "stop-publish"), 60);
    last.mergeIn(stop.getJsonObject("final"));
    drain(g);

    Merged m = Merged.of(snaps);
    double secs = measured.getDouble("seconds");
    double deliveriesPerSecond = m.deliveries / secs;
    double expected = rate * perChannel;
    double offered = rate * secs;
    JsonObject latency = Report.percentiles(m.latency);
    double p99 = latency.getDouble("p99", 0.0);
    boolean saturated = deliveriesPerSecond < 0.95 * expected || p99 > 1000 || m.skipped > Math.max(10, 0.01 * offered);
    JsonObject step = new JsonObject()
        .put("rate", rate)
        .put("expectedDeliveriesPerSecond", expected)
        .put("deliveriesPerSecond", Report.round(deliveriesPerSecond, 1))
        .put("publishedPerSecond", Report.round(m.published / secs, 1))
        .put("latencyMs", latency)
        .put("latencyPerSecondMs", m.perSecondPercentiles())
        .put("saturated", saturated)
        .put("skippedSends", m.skipped)
        .put("publishErrors", m.publishErrors)
        .put("serverCloses", m.closes)
        .put("serverConnectionsAfter", target.serverConnections())
        .put("serverRssBytes", rss(target));
    step.mergeIn(measured);
    double cores = measured.getDouble("serverCores");
    step.put("serverCoresPer100kDeliveries", deliveriesPerSecond > 0 ? Report.round(cores / (deliveriesPerSecond / 100_000), 3) : null);
    if (target.protocol().acksPublishes()) {
      step.put("storedPublishesPerSecond", Report.round(m.acked / secs, 1)).put("publishAckMs", Report.percentiles(m.ackLatency));
    }
    return step;
  }

  static long rss(Target t) {
    long sum = 0;
    for (long pid : t.pids()) sum += ProcStats.rssBytes(pid);
    return sum;
  }

  /**
   * Waits until deliveries stop arriving (the backlog of the last step), at most 60 s: what has not arrived by then
   * counts as missing at the end.
   */
  static void drain(Generator g) {
    long previous = -1;
    int stable = 0;
    long until = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < until && stable < 2) {
      Target.sleep(250);
      long total = 0;
      for (JsonObject s : WorkerHandle.callAll(g.subscribers, new JsonObject().put("op", "collect"), 60)) total += s.getLong("deliveries");
      stable = total == previous ? stable + 1 : 0;
      previous = total;
    }
  }

  /** Gaps and duplicates seen by subscribers over the whole run, and what they still lack at the end. */
  static JsonObject integrity(Generator g, JsonObject finalPositions) {
    long gaps = 0;
    long duplicates = 0;
    long reordered = 0;
    JsonObject closes = new JsonObject();
    for (JsonObject s : WorkerHandle.callAll(g.subscribers, new JsonObject().put("op", "collect"), 60)) {
      gaps += s.getLong("gaps");
      duplicates += s.getLong("duplicates");
      reordered += s.getLong("reordered", 0L);
      s.getJsonObject("closes").forEach(e -> closes.put(e.getKey(), closes.getLong(e.getKey(), 0L) + ((Number) e.getValue()).longValue()));
    }
    long missing = 0;
    long behind = 0;
    for (JsonObject c : WorkerHandle.callAll(g.subscribers, new JsonObject().put("op", "check").put("final", finalPositions), 60)) {
      missing += c.getLong("missing");
      behind += c.getLong("behind");
    }
    return new JsonObject().put("gaps", gaps).put("duplicates", duplicates).put("reordered", reordered).put("missingAtEnd", missing)
        .put("subscribersBehindAtEnd", behind).put("missed", gaps + missing).put("serverCloses", closes);
  }

  @Override
  public List<Metric> headline(JsonObject r) {
    List<Metric> m = new ArrayList<>();
    JsonArray steps = r.getJsonArray("steps", new JsonArray());
    double max = 0;
    for (int i = 0; i < steps.size(); i++) {
      JsonObject s = steps.getJsonObject(i);
      String at = " @" + Report.fmt(s.getDouble("rate")) + "/s";
      max = Math.max(max, s.getDouble("deliveriesPerSecond"));
      m.add(new Metric("deliveries/s" + at, s.getDouble("deliveriesPerSecond"), true));
      if (!fanout && s.containsKey("storedPublishesPerSecond")) {
        m.add(new Metric("stored publishes/s" + at, s.getDouble("storedPublishesPerSecond"), true));
      }
      m.add(new Metric("server cores" + at, s.getDouble("serverCores"), false));
      if (s.getValue("serverCoresPer100kDeliveries") != null) {
        m.add(new Metric("cores per 100k deliveries/s" + at, s.getDouble("serverCoresPer100kDeliveries"), false));
      }
      JsonObject l = s.getJsonObject("latencyMs");
      for (String p : List.of("p50", "p90", "p99", "p999", "max")) {
        if (l.containsKey(p)) m.add(new Metric("latency " + p + " ms" + at, l.getDouble(p), false));
      }
      m.add(new Metric("server kernel cores" + at, s.getDouble("serverKernelCores"), false));
      m.add(new Metric("generator cores" + at, s.getDouble("generatorCores"), false));
      m.add(new Metric("other jobs' cores" + at, s.getDouble("otherCores"), false));
    }
    if (steps.size() > 1) m.add(new Metric("max deliveries/s (sweep)", max, true));
    m.add(new Metric("messages missed", r.getJsonObject("integrity", new JsonObject()).getLong("missed", 0L), false));
    m.add(new Metric("messages reordered", r.getJsonObject("integrity", new JsonObject()).getLong("reordered", 0L), false));
    return m;
  }

  /** The sum of the workers' answers to "collect". */
  static final class Merged {
    long deliveries;
    long published;
    long acked;
    long skipped;
    final Histogram latency = new Histogram(3);
    final Histogram ackLatency = new Histogram(3);
    final List<Histogram> perSecond = new ArrayList<>();
    final JsonObject publishErrors = new JsonObject();
    final JsonObject closes = new JsonObject();

    static Merged of(List<JsonObject> snaps) {
      Merged m = new Merged();
      for (JsonObject s : snaps) {
        m.deliveries += s.getLong("deliveries");
        m.published += s.getLong("published");
        m.acked += s.getLong("acked");
        m.skipped += s.getLong("skipped");
        m.latency.add(Stats.decode(s.getString("latency")));
        m.ackLatency.add(Stats.decode(s.getString("ackLatency")));
        JsonArray ps = s.getJsonArray("perSecond");
        for (int i = 0; i < ps.size(); i++) {
          while (m.perSecond.size() <= i) m.perSecond.add(new Histogram(3));
          if (ps.getString(i) != null) m.perSecond.get(i).add(Stats.decode(ps.getString(i)));
        }
        s.getJsonObject("publishErrors").forEach(e -> m.publishErrors.put(e.getKey(), m.publishErrors.getLong(e.getKey(), 0L) + ((Number) e.getValue()).longValue()));
        s.getJsonObject("closes").forEach(e -> m.closes.put(e.getKey(), m.closes.getLong(e.getKey(), 0L) + ((Number) e.getValue()).longValue()));
      }
      return m;
    }

    /** Percentiles of each whole second of the window (the last, partial second is left out). */
    JsonArray perSecondPercentiles() {
      JsonArray out = new JsonArray();
      for (int i = 0; i + 1 < perSecond.size(); i++) out.add(Report.percentiles(perSecond.get(i)));
      return out;
    }
  }
}
