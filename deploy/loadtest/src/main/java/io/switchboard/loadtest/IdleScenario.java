package io.switchboard.loadtest;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code idle}: N connections, one subscription each, nothing published — what a connection costs the server at
 * rest: heap after a full GC and RSS, per connection. A warm-up round (opened and closed) comes first, so class
 * loading, JIT code and pools land in the baseline, not in the per-connection figure; the class histogram shows
 * what the per-connection heap is made of.
 */
final class IdleScenario implements Scenario {
  @Override
  public String name() {
    return "idle";
  }

  @Override
  public Set<String> knobs() {
    return Set.of("connections", "channels", "settle", "no-histogram");
  }

  @Override
  public void validate(Options o) {
    o.bounded("connections", 10_000, 1, Scenario.maxServerConnections());
    o.bounded("channels", 100, 1, 100_000);
  }

  @Override
  public JsonObject run(Target target, Options o, Path outDir, long deadlineMillis) throws Exception {
    int n = o.bounded("connections", 10_000, 1, Scenario.maxServerConnections());
    int channelCount = Math.min(n, o.bounded("channels", 100, 1, 100_000));
    int concurrency = o.bounded("concurrency", 200, 1, 5_000);
    boolean histogram = !o.flag("no-histogram");
    String run = Scenario.runId();
    List<String> channels = new ArrayList<>();
    for (int i = 0; i < channelCount; i++) channels.add(target.protocol().channelPrefix() + run + "-" + i);
    // with presence on, every connection is its own subject (as real users are); else a few shared tokens
    int tokenCount = o.flag("presence") ? n : Math.min(n, o.bounded("tokens", 16, 1, 100_000));
    List<String> tokens = target.tokens(tokenCount, "lt-idle-" + run);
    int warm = Math.max(1, Math.min(1000, n / 10));
    JsonObject result = new JsonObject().put("scenario", name()).put("connections", n).put("channels", channelCount)
        .put("tokens", tokenCount).put("warmupConnections", warm);
    try (Generator g = Generator.start(target, o, n, outDir, deadlineMillis)) {
      g.openSubscribers(warm, channels, tokens, concurrency, "sub");
      WorkerHandle.callAll(g.subscribers, new JsonObject().put("op", "close"), 120);
      // what the warm-up left on the server: normally nothing, but a PubNub client's re-poll that reached the server
      // after its leave starts a new presence session, which lives for its heartbeat (300 s); counted apart below
      long residual = Math.max(0, Scenario.awaitServerConnections(target, 0, 30_000));
      Target.sleep(1000);
      JsonObject before = target.memory();
      Map<String, long[]> histoBefore = histogram ? target.classHistogram() : null;

      JsonObject open = g.openSubscribers(n, channels, tokens, concurrency, "sub");
      result.put("open", open);
      if (open.getLong("opened") < n) {
        throw new IllegalStateException("only " + open.getLong("opened") + " of " + n + " connections opened: " + open.getJsonArray("errors"));
      }
      long counted = Scenario.awaitServerConnections(target, n + residual, 60_000);
      if (counted >= 0) counted -= residual;
      Target.sleep((long) (o.number("settle", 2) * 1000));
      JsonObject after = target.memory();
      Map<String, long[]> histoAfter = histogram && histoBefore != null ? target.classHistogram() : null;
      result.put("serverConnections", counted).put("residualConnections", residual).put("before", before).put("after", after);
      result.put("heapPerConnectionBytes", Report.round((after.getLong("heapBytes") - before.getLong("heapBytes")) / (double) n, 1));
      result.put("rssPerConnectionBytes", Report.round((after.getLong("rssBytes") - before.getLong("rssBytes")) / (double) n, 1));
      if (after.containsKey("redisRssBytes")) {
        result.put("redisRssPerConnectionBytes", Report.round((after.getLong("redisRssBytes") - before.getLong("redisRssBytes")) / (double) n, 1));
      }
      if (histoAfter != null && !histoAfter.isEmpty()) result.put("heapGrowthByClass", ProcStats.topGrowth(histoBefore, histoAfter, n, 15));
      List<JsonObject> closes = WorkerHandle.callAll(g.subscribers, new JsonObject().put("op", "collect"), 60);
      long unexpected = 0;
      for (JsonObject c : closes) for (String k : c.getJsonObject("closes").fieldNames()) unexpected += c.getJsonObject("closes").getLong(k);
      result.put("serverClosedConnections", unexpected);
      WorkerHandle.callAll(g.all(), new JsonObject().put("op", "close"), 120);
    }
    return result;
  }

  @Override
  public List<Metric> headline(JsonObject r) {
    List<Metric> m = new ArrayList<>();
    m.add(new Metric("heap per connection (B)", r.getDouble("heapPerConnectionBytes"), false));
    m.add(new Metric("RSS per connection (B)", r.getDouble("rssPerConnectionBytes"), false));
    if (r.containsKey("redisRssPerConnectionBytes")) m.add(new Metric("redis RSS per connection (B)", r.getDouble("redisRssPerConnectionBytes"), false));
    m.add(new Metric("connects/s while opening", r.getJsonObject("open").getDouble("perSecond"), true));
    return m;
  }
}
