package io.switchboard.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP fallbacks as load-tool protocols at a tiny scale, end to end (a real Switchboard, real worker processes,
 * real HTTP): SSE streams, native long-polls and PubNub subscribe long-polls get every publication of a fan-out, and
 * the idle scenario holds them and measures the server's heap per client. Several {@code --protocol} values are
 * targets of their own in one compare. No timing assertions: this machine is shared and small.
 */
class HttpProtocolsRunTest {
  static final List<String> PROTOCOLS = List.of("sse", "longpoll", "pubnub");

  @Test
  @Timeout(300)
  void fanoutToSseLongPollAndPubNubSubscribers(@TempDir Path out) throws Exception {
    Assumptions.assumeTrue(Files.exists(ScenarioRunTest.SWITCHBOARD_JAR), "no " + ScenarioRunTest.SWITCHBOARD_JAR + " (build the launcher first)");
    JsonObject all = Main.execute(new String[] {"compare", "fanout", "--servers", "switchboard", "--protocol", String.join(",", PROTOCOLS),
        "--subscribers", "10", "--rate", "10", "--duration", "1", "--warmup", "0.5", "--warmup-first", "0.5", "--workers", "1",
        "--pause", "0", "--out", out.toString(), "--max-minutes", "4"});
    JsonArray runs = all.getJsonArray("runs");
    assertEquals(PROTOCOLS.size(), runs.size());
    Set<String> protocols = new HashSet<>();
    for (int i = 0; i < runs.size(); i++) {
      JsonObject run = runs.getJsonObject(i);
      assertNotNull(run.getJsonObject("result"), "run failed: " + run.getString("error"));
      protocols.add(run.getJsonObject("describe").getString("protocol"));
      assertTrue(run.getString("target").endsWith("-" + run.getJsonObject("describe").getString("protocol")), run.getString("target"));
      JsonObject r = run.getJsonObject("result");
      JsonObject step = r.getJsonArray("steps").getJsonObject(0);
      assertTrue(step.getDouble("deliveriesPerSecond") > 0, step.encode());
      assertTrue(step.getJsonObject("latencyMs").getLong("count") > 0, step.encode());
      assertEquals(0, r.getJsonObject("integrity").getLong("missed"), run.getString("target") + " " + r.getJsonObject("integrity").encode());
      assertEquals(0, r.getJsonObject("integrity").getLong("duplicates"), r.getJsonObject("integrity").encode());
    }
    assertEquals(Set.copyOf(PROTOCOLS), protocols);
  }

  @Test
  @Timeout(300)
  void idleHoldsStreamsAndPollsAndMeasuresHeapPerClient(@TempDir Path out) throws Exception {
    Assumptions.assumeTrue(Files.exists(ScenarioRunTest.SWITCHBOARD_JAR), "no " + ScenarioRunTest.SWITCHBOARD_JAR + " (build the launcher first)");
    JsonObject all = Main.execute(new String[] {"compare", "idle", "--servers", "switchboard", "--protocol", String.join(",", PROTOCOLS),
        "--connections", "60", "--workers", "1", "--settle", "0.5", "--pause", "0", "--out", out.toString(), "--max-minutes", "4"});
    JsonArray runs = all.getJsonArray("runs");
    assertEquals(PROTOCOLS.size(), runs.size());
    for (int i = 0; i < runs.size(); i++) {
      JsonObject run = runs.getJsonObject(i);
      assertNotNull(run.getJsonObject("result"), "run failed: " + run.getString("error"));
      JsonObject r = run.getJsonObject("result");
      assertEquals(60, r.getJsonObject("open").getLong("opened"), r.encode());
      // every client is held by the server: streams and sessions, and held polls (which count as connections)
      assertEquals(60, r.getLong("serverConnections"), run.getString("target"));
      assertTrue(r.containsKey("heapPerConnectionBytes"), r.encode());
      assertTrue(r.getJsonArray("heapGrowthByClass").size() > 0);
      assertEquals(0, r.getLong("serverClosedConnections"), r.encode());
    }
  }
}
