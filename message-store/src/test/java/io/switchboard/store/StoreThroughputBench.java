package io.switchboard.store;

import io.switchboard.common.Addresses;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import io.switchboard.common.RedisConnector;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Measures (never asserts) stored appends/s, append latency and CPU per append (this JVM — store AND the load loop
 * — and redis-server, from INFO CPU), 1 KiB payloads, on one JVM. Off by default; run:
 * {@code mvn -o -q -pl message-store -am test -Dtest=StoreThroughputBench -Dbench=true
 * -Dsurefire.failIfNoSpecifiedTests=false}, results on stdout
 * (target/surefire-reports/io.switchboard.store.StoreThroughputBench-output.txt). {@code -Dbench.appends=N}
 * (default 50,000 per run), {@code -Dbench.repeat=R} (default 1).
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class StoreThroughputBench {
  static final int N = Integer.getInteger("bench.appends", 50_000);
  static final int REPEAT = Integer.getInteger("bench.repeat", 1);
  static final int WINDOW = Integer.getInteger("bench.window", 256);
  static final String PAYLOAD = "x".repeat(1024);
  static final NamespaceOptions OPTS = NamespaceOptions.DEFAULT;

  @Test
  void measure() {
    Vertx vertx = Vertx.vertx();
    try {
      String url = TestRedis.shared().url();
      MessageStore memory = new MemoryMessageStore(vertx, StoreSettings.DEFAULT);
      MessageStore redis = new RedisMessageStore(RedisConnector.create(vertx, new JsonObject().put("url", url)),
          StoreSettings.DEFAULT);
      RedisCpu cpu = new RedisCpu(vertx, url);
      for (int r = 0; r < REPEAT; r++) {
        for (String engine : new String[] {"memory", "redis"}) {
          MessageStore store = engine.equals("memory") ? memory : redis;
          run(engine + " engine", 1, p -> store.append(p, OPTS, null), cpu);
          run(engine + " engine", 1000, p -> store.append(p, OPTS, null), cpu);
        }
        for (String engine : new String[] {"memory", "redis"}) {
          Vertx v = Vertx.vertx();
          JsonObject config = StoreVerticleTest.config(engine, url).put("channels", new JsonObject());
          Await.result(v.deployVerticle(new StoreVerticle(), new DeploymentOptions().setConfig(config)));
          Function<Publication, Future<?>> bus = p -> v.eventBus().request(Addresses.STORE_APPEND,
              new JsonObject().put("publication", p.toJson()));
          run(engine + " via bus", 1, bus, cpu);
          run(engine + " via bus", 1000, bus, cpu);
          // store.append.batch: the appends queued between two turns of one event loop go as one request (as the
          // gateway's AppendBatcher sends the publishes of one turn)
          TurnBatcher batcher = new TurnBatcher(v);
          run(engine + " via bus batch", 1, batcher::append, cpu);
          run(engine + " via bus batch", 1000, batcher::append, cpu);
          Await.result(v.close());
        }
      }
      cpu.close();
    } finally {
      Await.result(vertx.close());
    }
  }

  /**
   * Sends the appends made since its last turn on one event loop as one {@code store.append.batch} request (up to 64),
   * each completed with its own result: the bench's stand-in for the gateway's AppendBatcher.
   */
  static final class TurnBatcher {
    private final Vertx vertx;
    private final io.vertx.core.Context context;
    private final java.util.concurrent.ConcurrentLinkedQueue<Object[]> queue = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicBoolean scheduled = new java.util.concurrent.atomic.AtomicBoolean();

    TurnBatcher(Vertx vertx) {
      this.vertx = vertx;
      this.context = vertx.getOrCreateContext();
    }

    Future<?> append(Publication p) {
      io.vertx.core.Promise<Object> promise = io.vertx.core.Promise.promise();
      queue.add(new Object[] {new JsonObject().put("publication", p.toJson()), promise});
      if (scheduled.compareAndSet(false, true)) context.runOnContext(x -> turn());
      return promise.future();
    }

    @SuppressWarnings("unchecked")
    private void turn() {
      scheduled.set(false);
      while (!queue.isEmpty()) {
        java.util.List<io.vertx.core.Promise<Object>> promises = new java.util.ArrayList<>();
        io.vertx.core.json.JsonArray entries = new io.vertx.core.json.JsonArray();
        Object[] e;
        while (promises.size() < 64 && (e = queue.poll()) != null) {
          entries.add(e[0]);
          promises.add((io.vertx.core.Promise<Object>) e[1]);
        }
        vertx.eventBus().<JsonObject>request(Addresses.STORE_APPEND_BATCH, new JsonObject().put("publications", entries))
            .onComplete(ar -> {
              for (int i = 0; i < promises.size(); i++) {
                if (ar.failed()) {
                  promises.get(i).fail(ar.cause());
                } else {
                  JsonObject r = ar.result().body().getJsonArray("results").getJsonObject(i);
                  if (r.containsKey("error")) promises.get(i).fail(r.encode());
                  else promises.get(i).complete(r);
                }
              }
            });
      }
    }
  }

  /** redis-server's own CPU time (INFO CPU: used_cpu_user + used_cpu_sys), read over a separate connection. */
  static final class RedisCpu {
    private final RedisConnector info;

    RedisCpu(Vertx vertx, String url) {
      info = RedisConnector.create(vertx, new JsonObject().put("url", url));
    }

    double seconds() {
      double[] t = userSys();
      return t[0] + t[1];
    }

    /** {used_cpu_user, used_cpu_sys} in seconds. */
    double[] userSys() {
      String text = Await.result(info.send(Request.cmd(Command.INFO).arg("cpu"))).toString();
      double[] t = new double[2];
      for (String line : text.split("\r?\n")) {
        if (line.startsWith("used_cpu_user:")) t[0] = Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
        if (line.startsWith("used_cpu_sys:")) t[1] = Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
      }
      return t;
    }

    void resetStats() {
      Await.result(info.send(Request.cmd(Command.CONFIG).arg("RESETSTAT")));
    }

    /** Redis's calls and time per command (scripts' inner calls included) since {@link #resetStats}. */
    String stats() {
      String text = Await.result(info.send(Request.cmd(Command.INFO).arg("commandstats"))).toString();
      StringBuilder out = new StringBuilder("    redis");
      for (String line : text.split("\r?\n")) {
        if (!line.startsWith("cmdstat_") || line.startsWith("cmdstat_info") || line.startsWith("cmdstat_config")) continue;
        String[] f = line.substring("cmdstat_".length()).split("[:,=]");
        // name, calls, N, usec, N, usec_per_call, N
        out.append(' ').append(f[0]).append(' ').append(f[2]).append('x').append(f[6]).append("us");
      }
      return out.length() == "    redis".length() ? "" : out.toString();
    }

    void close() {
      info.close();
    }
  }

  static double jvmCpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }

  /** {@code -Dbench.only=TEXT}: only the runs whose name contains TEXT (e.g. "redis via bus"). */
  static void run(String what, int channels, Function<Publication, Future<?>> append, RedisCpu cpu) {
    if (!what.contains(System.getProperty("bench.only", ""))) return;
    String prefix = "bench:" + Long.toHexString(System.nanoTime()) + "-";
    window(prefix + "w", Math.max(10_000, N / 5), channels, append, new long[Math.max(10_000, N / 5)]); // warm-up
    long[] latency = new long[N];
    cpu.resetStats();
    double jvm0 = jvmCpuSeconds();
    double[] redis0 = cpu.userSys();
    double secs = window(prefix, N, channels, append, latency);
    double jvm = jvmCpuSeconds() - jvm0;
    double[] redis1 = cpu.userSys();
    double redis = redis1[0] + redis1[1] - redis0[0] - redis0[1];
    double redisSys = redis1[1] - redis0[1];
    String stats = cpu.stats();
    // latency one at a time
    int m = Math.min(N, 5000);
    long[] single = new long[m];
    for (int i = 0; i < m; i++) {
      long t0 = System.nanoTime();
      Await.result(append.apply(pub(prefix + "s" + (i % channels))));
      single[i] = System.nanoTime() - t0;
    }
    System.out.printf(Locale.ROOT, "%-28s channels=%-5d %8.0f appends/s (window %d: p50 %s p99 %s) | CPU per append: "
            + "JVM %5.1f us, redis-server %5.1f us (sys %4.1f) | one at a time: p50 %s p99 %s%n",
        what, channels, N / secs, WINDOW, pct(latency, 50), pct(latency, 99), jvm / N * 1e6, redis / N * 1e6,
        redisSys / N * 1e6,
        pct(single, 50), pct(single, 99));
    if (!stats.isEmpty()) System.out.println(stats);
  }

  /** {@code n} appends with up to WINDOW in flight; the seconds they took. */
  private static double window(String prefix, int n, int channels, Function<Publication, Future<?>> append,
      long[] latency) {
    Semaphore window = new Semaphore(WINDOW);
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      window.acquireUninterruptibly();
      int k = i;
      long t0 = System.nanoTime();
      append.apply(pub(prefix + (i % channels))).onComplete(ar -> {
        if (ar.failed()) ar.cause().printStackTrace();
        latency[k] = System.nanoTime() - t0;
        window.release();
      });
    }
    window.acquireUninterruptibly(WINDOW);
    return (System.nanoTime() - start) / 1e9;
  }

  private static String pct(long[] nanos, int p) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return String.format(Locale.ROOT, "%.3fms", s[Math.min(s.length - 1, s.length * p / 100)] / 1e6);
  }

  static Publication pub(String channel) {
    return new Publication(null, channel, 0, null, 0, "bench", PAYLOAD, "agent", "a1", null, null, 0, false, null);
  }
}
