package io.switchboard.store;

import io.switchboard.common.RedisConnector;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Compares ways of batching the Redis engine's appends (never asserts), alternating the variants within each
 * repeat: one script call per append (pipelined, no batching: the engine before batching), one call per batch for
 * all channels, one call per channel of a batch, and the in-flight / batch-size knobs. Off by default; run:
 * {@code mvn -o -q -pl message-store -am test -Dtest=RedisBatchBench -Dbench=true
 * -Dsurefire.failIfNoSpecifiedTests=false -Dbench.repeat=3}; results in
 * target/surefire-reports/io.switchboard.store.RedisBatchBench-output.txt.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class RedisBatchBench {
  @Test
  void measure() {
    Vertx vertx = Vertx.vertx();
    try {
      String url = TestRedis.shared().url();
      RedisAppends.Tuning d = RedisAppends.Tuning.DEFAULT;
      Map<String, RedisAppends.Tuning> variants = new LinkedHashMap<>();
      variants.put("per-append calls", new RedisAppends.Tuning(1 << 20, 1, d.maxBatchBytes(), false, d.maxQueued()));
      variants.put("batched, one call (default)", d);
      variants.put("batched, call per channel", d.withCallPerChannel(true));
      String only = System.getProperty("bench.variants", "");
      if (only.contains("knobs")) {
        variants.put("in flight 1", new RedisAppends.Tuning(1, d.maxBatch(), d.maxBatchBytes(), false, d.maxQueued()));
        variants.put("in flight 4", new RedisAppends.Tuning(4, d.maxBatch(), d.maxBatchBytes(), false, d.maxQueued()));
        variants.put("batch 256", new RedisAppends.Tuning(d.maxInFlight(), 256, d.maxBatchBytes(), false, d.maxQueued()));
        variants.put("batch 1024", new RedisAppends.Tuning(d.maxInFlight(), 1024, d.maxBatchBytes(), false,
            d.maxQueued()));
      }
      StoreThroughputBench.RedisCpu cpu = new StoreThroughputBench.RedisCpu(vertx, url);
      for (int r = 0; r < StoreThroughputBench.REPEAT; r++) {
        for (int channels : new int[] {1, 1000}) {
          for (Map.Entry<String, RedisAppends.Tuning> v : variants.entrySet()) {
            RedisMessageStore store = new RedisMessageStore(
                RedisConnector.create(vertx, new JsonObject().put("url", url)), StoreSettings.DEFAULT, v.getValue());
            int calls0 = store.appendCalls();
            StoreThroughputBench.run(v.getKey(), channels, p -> store.append(p, StoreThroughputBench.OPTS, null), cpu);
            System.out.printf("    %d script calls in all (warm-up, window, one at a time)%n", store.appendCalls() - calls0);
            Await.result(store.close());
          }
        }
      }
      cpu.close();
    } finally {
      Await.result(vertx.close());
    }
  }
}
