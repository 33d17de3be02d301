package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code connect-storm}: N clients connect at once, each completing the protocol's connect (for Switchboard: the
 * WebSocket upgrade plus the {@code connect} frame whose ES256 token the gateway verifies) — connections/s, connect
 * latency and server CPU per connect. Several rounds after an unmeasured warm-up round; each round uses fresh
 * source addresses so the TIME_WAIT sockets of the previous round never exhaust ephemeral ports. Tokens are
 * distinct per connection unless {@code --tokens} says fewer.
 */
final class ConnectStormScenario implements Scenario {
  @Override
  public String name() {
    return "connect-storm";
  }

  @Override
  public Set<String> knobs() {
    return Set.of("connections", "rounds");
  }

  @Override
  public void validate(Options o) {
    o.bounded("connections", 10_000, 1, Scenario.maxServerConnections());
    o.bounded("rounds", 3, 1, 20);
  }

  @Override
  public JsonObject run(Target target, Options o, Path outDir, long deadlineMillis) throws Exception {
    int n = o.bounded("connections", 10_000, 1, Scenario.maxServerConnections());
    int rounds = o.bounded("rounds", 3, 1, 20);
    int concurrency = o.bounded("concurrency", 200, 1, 5_000);
    String run = Scenario.runId();
    // one token per connection by default, as real clients have: a gateway that caches verifications must not
    // look faster here than it is for a crowd of distinct users
    List<String> tokens = target.tokens(o.bounded("tokens", n, 1, 100_000), "lt-storm-" + run);
    JsonObject result = new JsonObject().put("scenario", name()).put("connections", n).put("rounds", rounds)
        .put("tokens", tokens.size()).put("concurrencyPerWorker", concurrency);
    JsonArray out = new JsonArray();
    try (Generator g = Generator.start(target, o, n, outDir, deadlineMillis)) {
      result.put("workers", g.subscribers.size());
      // a warm-up round, not measured: freshly started JVMs (server and generator) connect several times slower
      // until their handshake code is compiled
      int warm = Math.min(n, 2_000);
      JsonObject warmOpen = g.openSubscribers(warm, null, tokens, concurrency, "connect");
      result.put("warmup", new JsonObject().put("connections", warm).put("perSecond", warmOpen.getDouble("perSecond")));
      WorkerHandle.callAll(g.subscribers, new JsonObject().put("op", "close"), 120);
      Scenario.awaitServerConnections(target, 0, 30_000);
      for (int r = 0; r < rounds; r++) {
        List<java.util.concurrent.CompletableFuture<JsonObject>> fs = new ArrayList<>();
        int w = g.subscribers.size();
        Window window = new Window(target.pids(), g.pids());
        for (int i = 0; i < w; i++) {
          int share = n / w + (i < n % w ? 1 : 0);
          fs.add(g.subscribers.get(i).send(new JsonObject().put("op", "open").put("role", "connect").put("count", share)
              .put("tokens", new JsonArray(tokens)).put("concurrency", concurrency)
              .put("localAddress", "127.0.0." + (2 + ((r + 1) * w + i) % 250))));
        }
        JsonObject open = Generator.mergeOpen(Generator.join(fs, "connect"));
        JsonObject measured = window.end();
        double cpuMs = measured.getDouble("serverCores") * measured.getDouble("seconds") * 1000;
        JsonObject round = open.copy().mergeIn(measured)
            .put("serverCpuMsPerConnect", open.getLong("opened") > 0 ? Report.round(cpuMs / open.getLong("opened"), 4) : null);
        out.add(round);
        System.err.println("loadtest: " + target.label() + " connect-storm round " + (r + 1) + ": " + open.getDouble("perSecond")
            + " connects/s, " + open.getLong("failed") + " failed");
        WorkerHandle.callAll(g.subscribers, new JsonObject().put("op", "close"), 120);
        Scenario.awaitServerConnections(target, 0, 30_000);
      }
    }
    result.put("roundResults", out);
    List<Double> rates = new ArrayList<>();
    for (int i = 0; i < out.size(); i++) rates.add(out.getJsonObject(i).getDouble("perSecond"));
    result.put("connectsPerSecond", Report.spread(rates));
    return result;
  }

  @Override
  public List<Metric> headline(JsonObject r) {
    List<Metric> m = new ArrayList<>();
    JsonObject s = r.getJsonObject("connectsPerSecond");
    m.add(new Metric("connects/s (best round)", s.getDouble("max"), true));
    m.add(new Metric("connects/s (median round)", s.getDouble("median"), true));
    JsonArray rounds = r.getJsonArray("roundResults");
    List<Double> cpu = new ArrayList<>();
    List<Double> p99 = new ArrayList<>();
    long failed = 0;
    for (int i = 0; i < rounds.size(); i++) {
      JsonObject x = rounds.getJsonObject(i);
      if (x.getValue("serverCpuMsPerConnect") != null) cpu.add(x.getDouble("serverCpuMsPerConnect"));
      p99.add(x.getJsonObject("latencyMs").getDouble("p99", Double.NaN));
      failed += x.getLong("failed");
    }
    m.add(new Metric("server CPU ms per connect (median)", Report.spread(cpu).getDouble("median", Double.NaN), false));
    m.add(new Metric("connect latency p99 ms (median round)", Report.spread(p99).getDouble("median", Double.NaN), false));
    m.add(new Metric("failed connects", failed, false));
    List<Double> other = new ArrayList<>();
    for (int i = 0; i < rounds.size(); i++) other.add(rounds.getJsonObject(i).getDouble("otherCores", 0.0));
    m.add(new Metric("other jobs' cores (max round)", java.util.Collections.max(other), false));
    return m;
  }
}
