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
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Measures (never asserts) stored appends/s and append latency, 1 KiB payloads, on one JVM. Off by default; run:
 * {@code mvn -o -q -pl message-store test -Dtest=StoreThroughputBench -Dbench=true}, results on stdout
 * (target/surefire-reports/io.switchboard.store.StoreThroughputBench-output.txt).
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class StoreThroughputBench {
  static final int N = Integer.getInteger("bench.appends", 20_000);
  static final int WINDOW = 256;
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
      for (String engine : new String[] {"memory", "redis"}) {
        MessageStore store = engine.equals("memory") ? memory : redis;
        run(engine + " engine", 1, p -> store.append(p, OPTS, null));
        run(engine + " engine", 1000, p -> store.append(p, OPTS, null));
      }
      RedisConnector info = RedisConnector.create(vertx, new JsonObject().put("url", url));
      String stats = Await.result(info.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.INFO)
          .arg("commandstats"))).toString();
      stats.lines().filter(l -> l.contains("eval")).forEach(l -> System.out.println("redis " + l));
      info.close();
      for (String engine : new String[] {"memory", "redis"}) {
        Vertx v = Vertx.vertx();
        JsonObject config = StoreVerticleTest.config(engine, url).put("channels", new JsonObject());
        Await.result(v.deployVerticle(new StoreVerticle(), new DeploymentOptions().setConfig(config)));
        Function<Publication, Future<?>> bus = p -> v.eventBus().request(Addresses.STORE_APPEND,
            new JsonObject().put("publication", p.toJson()));
        run(engine + " via bus", 1, bus);
        run(engine + " via bus", 1000, bus);
        Await.result(v.close());
      }
    } finally {
      Await.result(vertx.close());
    }
  }

  private static void run(String what, int channels, Function<Publication, Future<?>> append) {
    String prefix = "bench:" + Long.toHexString(System.nanoTime()) + "-";
    for (int i = 0; i < 2000; i++) Await.result(append.apply(pub(prefix + "w" + (i % channels))));  // warm-up
    // throughput: up to WINDOW appends in flight
    Semaphore window = new Semaphore(WINDOW);
    long[] latency = new long[N];
    long start = System.nanoTime();
    for (int i = 0; i < N; i++) {
      window.acquireUninterruptibly();
      int n = i;
      long t0 = System.nanoTime();
      append.apply(pub(prefix + (i % channels))).onComplete(ar -> {
        if (ar.failed()) ar.cause().printStackTrace();
        latency[n] = System.nanoTime() - t0;
        window.release();
      });
    }
    window.acquireUninterruptibly(WINDOW);
    double secs = (System.nanoTime() - start) / 1e9;
    // latency one at a time
    int m = Math.min(N, 5000);
    long[] single = new long[m];
    for (int i = 0; i < m; i++) {
      long t0 = System.nanoTime();
      Await.result(append.apply(pub(prefix + "s" + (i % channels))));
      single[i] = System.nanoTime() - t0;
    }
    System.out.printf(Locale.ROOT, "%-16s channels=%-5d %8.0f appends/s (window %d: p50 %s p99 %s) | one at a time: p50 %s p99 %s%n",
        what, channels, N / secs, WINDOW, pct(latency, 50), pct(latency, 99), pct(single, 50), pct(single, 99));
  }

  private static String pct(long[] nanos, int p) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return String.format(Locale.ROOT, "%.3fms", s[Math.min(s.length - 1, s.length * p / 100)] / 1e6);
  }

  private static Publication pub(String channel) {
    return new Publication(null, channel, 0, null, 0, "bench", PAYLOAD, "agent", "a1", null, null, 0, false, null);
  }
}
