package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.HdrHistogram.Histogram;

/**
 * {@code reconnect-storm}: N subscribers over C channels while a publisher keeps publishing; then every client
 * drops at once (closes its socket), reconnects and resubscribes with its last position. Measures the time until
 * every client has recovered (received everything up to the head its resubscribe reported) and counts messages
 * missed over the whole run — gaps in each subscriber's sequence plus what it lacks at the end. With recovery the
 * target is 0; protocols without recovery show what a blip costs them.
 */
final class ReconnectStormScenario implements Scenario {
  @Override
  public String name() {
    return "reconnect-storm";
  }

  @Override
  public Set<String> knobs() {
    return Set.of("connections", "channels", "rate", "before", "after", "publishers", "reconnect-concurrency", "recover-timeout");
  }

  @Override
  public void validate(Options o) {
    o.bounded("connections", 5_000, 1, Scenario.maxServerConnections());
    o.bounded("channels", 50, 1, 100_000);
    o.bounded("reconnect-concurrency", 1000, 1, 20_000);
    o.bounded("recover-timeout", 120, 1, 3600);
    if (o.number("rate", 200) <= 0) throw new IllegalArgumentException("--rate must be positive");
  }

  @Override
  public JsonObject run(Target target, Options o, Path outDir, long deadlineMillis) throws Exception {
    int n = o.bounded("connections", 5_000, 1, Scenario.maxServerConnections());
    int channelCount = Math.min(n, o.bounded("channels", 50, 1, 100_000));
    double rate = o.number("rate", 200);
    int payload = o.bounded("payload", 100, 16, 60_000);
    int publishers = Math.min(o.bounded("publishers", 4, 1, 64), channelCount);
    int concurrency = o.bounded("concurrency", 200, 1, 5_000);
    double before = o.number("before", 5);
    double after = o.number("after", 3);
    String run = Scenario.runId();
    List<String> channels = new ArrayList<>();
    for (int i = 0; i < channelCount; i++) channels.add(target.protocol().channelPrefix() + run + "-" + i);
    List<String> tokens = target.tokens(Math.min(n, o.bounded("tokens", 8, 1, 100_000)), "lt-rec-" + run);
    List<String> pubTokens = target.tokens(publishers, "lt-recpub-" + run);
    JsonObject result = new JsonObject().put("scenario", name()).put("connections", n).put("channels", channelCount)
        .put("rate", rate).put("payloadBytes", payload).put("recovers", target.protocol().recovers());
    try (Generator g = Generator.start(target, o, n, outDir, deadlineMillis)) {
      JsonObject open = g.openSubscribers(n, channels, tokens, concurrency, "sub");
      result.put("open", open);
      if (open.getLong("opened") < n) throw new IllegalStateException("only " + open.getLong("opened") + " of " + n + " connected: " + open.getJsonArray("errors"));
      g.openPublishers(publishers, pubTokens);
      g.publisher.call(new JsonObject().put("op", "publish").put("rate", rate).put("payload", payload)
          .put("channels", new JsonArray(channels)).put("seconds", before + after + 300), 60);
      Target.sleep((long) (before * 1000));
      WorkerHandle.callAll(g.all(), new JsonObject().put("op", "mark"), 60);
      Window window = new Window(target.pids(), g.pids());
      // each worker reconnects at most this many clients at once (closing, reconnecting, resubscribing)
      int reconnecting = o.bounded("reconnect-concurrency", 1000, 1, 20_000);
      long recoverTimeoutMs = o.bounded("recover-timeout", 120, 1, 3600) * 1000L;
      result.put("reconnectConcurrencyPerWorker", reconnecting).put("workers", g.subscribers.size());
      List<JsonObject> drops = WorkerHandle.callAll(g.subscribers,
          new JsonObject().put("op", "drop").put("timeoutMs", recoverTimeoutMs).put("concurrency", reconnecting),
          recoverTimeoutMs / 1000 + 2 * Conn.HANDSHAKE_TIMEOUT_MS / 1000 + 60);
      JsonObject measured = window.end();
      Target.sleep((long) (after * 1000));
      JsonObject stop = g.publisher.call(new JsonObject().put("op", "stop-publish"), 60);
      DeliveryScenario.drain(g);
      long dropAt = Long.MAX_VALUE;
      long lastRecovered = 0;
      long reconnected = 0;
      long failed = 0;
      long recoveredTrue = 0;
      long recoveredFalse = 0;
      long notRecovered = 0;
      JsonArray errors = new JsonArray();
      Histogram perClient = new Histogram(3);
      for (JsonObject d : drops) {
        dropAt = Math.min(dropAt, d.getLong("dropMicros"));
        lastRecovered = Math.max(lastRecovered, d.getLong("lastRecoveredMicros"));
        reconnected += d.getLong("reconnected");
        failed += d.getLong("failed");
        recoveredTrue += d.getLong("recoveredTrue");
        recoveredFalse += d.getLong("recoveredFalse");
        notRecovered += d.getLong("notRecovered");
        for (Object e : d.getJsonArray("errors")) if (errors.size() < 5) errors.add(e);
        perClient.add(Stats.decode(d.getString("recoverLatency")));
      }
      result.put("secondsUntilAllRecovered", notRecovered == 0 && failed == 0 ? Report.round((lastRecovered - dropAt) / 1e6, 3) : null)
          .put("reconnected", reconnected).put("reconnectFailed", failed).put("recoveredTrue", recoveredTrue)
          .put("recoveredFalse", recoveredFalse).put("notRecoveredInTime", notRecovered).put("errors", errors)
          .put("perClientRecoveryMs", Report.percentiles(perClient)).put("storm", measured)
          .put("integrity", DeliveryScenario.integrity(g, stop.getJsonObject("final")));
      WorkerHandle.callAll(g.all(), new JsonObject().put("op", "close"), 120);
    }
    return result;
  }

  @Override
  public List<Metric> headline(JsonObject r) {
    List<Metric> m = new ArrayList<>();
    Object secs = r.getValue("secondsUntilAllRecovered");
    m.add(new Metric("seconds until all recovered", secs == null ? Double.NaN : ((Number) secs).doubleValue(), false));
    m.add(new Metric("per-client recovery p99 ms", r.getJsonObject("perClientRecoveryMs").getDouble("p99", Double.NaN), false));
    m.add(new Metric("messages missed", r.getJsonObject("integrity").getLong("missed"), false));
    m.add(new Metric("duplicates", r.getJsonObject("integrity").getLong("duplicates"), false));
    m.add(new Metric("reconnect failures", r.getLong("reconnectFailed"), false));
    m.add(new Metric("server cores during storm", r.getJsonObject("storm").getDouble("serverCores"), false));
    return m;
  }
}
