package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * The load generator of one scenario run: subscriber worker processes (each under the per-process file limit, each
 * on its own source address 127.0.0.x) and one publisher worker, all pointed at one target.
 */
final class Generator implements AutoCloseable {
  /** Connections per worker process: the open-file limit (20k here) minus room for the JVM's own files. */
  static final int PER_WORKER = Math.max(100, Math.min(18_000, ProcStats.openFilesLimit() - 1_500));

  final List<WorkerHandle> subscribers = new ArrayList<>();
  final WorkerHandle publisher;
  final Target target;

  private Generator(Target target, WorkerHandle publisher) {
    this.target = target;
    this.publisher = publisher;
  }

  /**
   * Starts enough workers for {@code connections} clients: at least {@code --workers} (default 2), more when one
   * process would exceed {@link #PER_WORKER}.
   */
  static Generator start(Target target, Options o, int connections, Path outDir, long deadlineMillis) throws IOException {
    int threads = o.bounded("client-threads", 1, 1, 16);
    int count = Math.max(o.bounded("workers", 2, 1, 64), (connections + PER_WORKER - 1) / PER_WORKER);
    WorkerHandle pub = WorkerHandle.start(count, 1, deadlineMillis, outDir.resolve("worker-publisher.log"));
    Generator g = new Generator(target, pub);
    try {
      for (int i = 0; i < count; i++) {
        g.subscribers.add(WorkerHandle.start(i, threads, deadlineMillis, outDir.resolve("worker-" + i + ".log")));
      }
      JsonObject init = new JsonObject().put("op", "init").put("protocol", target.protocol().name())
          .put("protocolOptions", target.protocol().options())
          .put("host", target.host()).put("ports", new JsonArray(target.ports()));
      WorkerHandle.callAll(g.all(), init, 60);
    } catch (RuntimeException e) {
      g.close();
      throw e;
    }
    return g;
  }

  List<WorkerHandle> all() {
    List<WorkerHandle> a = new ArrayList<>(subscribers);
    a.add(publisher);
    return a;
  }

  List<Long> pids() {
    List<Long> p = new ArrayList<>();
    for (WorkerHandle w : all()) p.add(w.pid());
    return p;
  }

  /**
   * Opens {@code count} subscribers spread evenly over the subscriber workers; subscriber g (0-based, over all
   * workers) takes {@code channels[g % channels.size()]} and {@code tokens[g % tokens.size()]}.
   */
  JsonObject openSubscribers(int count, List<String> channels, List<String> tokens, int concurrency, String role) {
    List<java.util.concurrent.CompletableFuture<JsonObject>> fs = new ArrayList<>();
    int n = subscribers.size();
    int start = 0;
    for (int w = 0; w < n; w++) {
      int share = count / n + (w < count % n ? 1 : 0);
      JsonArray ch = new JsonArray();
      JsonArray tk = new JsonArray();
      for (int g = start; g < start + share; g++) {
        if (channels != null) ch.add(channels.get(g % channels.size()));
        tk.add(tokens.get(g % tokens.size()));
      }
      start += share;
      JsonObject cmd = new JsonObject().put("op", "open").put("role", role).put("count", share).put("tokens", tk).put("first", start - share)
          .put("concurrency", concurrency).put("localAddress", subscribers.get(w).localAddress)
          .put("localAddresses", new JsonArray(subscribers.get(w).sourceAddresses()));
      if (channels != null) cmd.put("channels", ch);
      if (share == 0) cmd.put("tokens", new JsonArray().add(""));
      fs.add(subscribers.get(w).send(cmd));
    }
    return mergeOpen(join(fs, "open"));
  }

  static List<JsonObject> join(List<java.util.concurrent.CompletableFuture<JsonObject>> fs, String what) {
    List<JsonObject> out = new ArrayList<>();
    for (var f : fs) {
      JsonObject a;
      try {
        a = f.get(1800, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException(what + " failed: " + e.getMessage(), e);
      }
      if (a.containsKey("error")) throw new IllegalStateException(what + " failed in a worker: " + a.getString("error"));
      out.add(a);
    }
    return out;
  }

  /** Sums the answers of "open": counts, first errors, overall span and merged open latency. */
  static JsonObject mergeOpen(List<JsonObject> answers) {
    long opened = 0;
    long failed = 0;
    long start = Long.MAX_VALUE;
    long end = 0;
    JsonArray errors = new JsonArray();
    Histogram latency = new Histogram(3);
    for (JsonObject a : answers) {
      opened += a.getLong("opened");
      failed += a.getLong("failed");
      if (a.getLong("opened") + a.getLong("failed") > 0) {
        start = Math.min(start, a.getLong("startMicros"));
        end = Math.max(end, a.getLong("endMicros"));
      }
      for (Object e : a.getJsonArray("errors")) if (errors.size() < 5) errors.add(e);
      latency.add(Stats.decode(a.getString("openLatency")));
    }
    double seconds = end > start ? (end - start) / 1e6 : 0;
    return new JsonObject().put("opened", opened).put("failed", failed).put("errors", errors)
        .put("seconds", Report.round(seconds, 3))
        .put("perSecond", seconds > 0 ? Report.round(opened / seconds, 1) : 0)
        .put("latencyMs", Report.percentiles(latency));
  }

  JsonObject openPublishers(int count, List<String> tokens) {
    JsonObject cmd = new JsonObject().put("op", "open").put("role", "pub").put("count", count)
        .put("tokens", new JsonArray(tokens)).put("concurrency", 16).put("localAddress", "127.0.0.1");
    JsonObject r = mergeOpen(List.of(publisher.call(cmd, 300)));
    if (r.getLong("opened") < count) throw new IllegalStateException("publishers did not connect: " + r.getJsonArray("errors"));
    return r;
  }

  @Override
  public void close() {
    for (WorkerHandle w : all()) w.close();
  }
}
