package io.switchboard.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tool end to end at a tiny scale: real child processes (server, workers), real sockets. Proves that messages
 * are counted, histograms filled, and the JSON, summary and PNG written. No timing assertions: this machine is
 * shared and small.
 */
class ScenarioRunTest {
  static final Path SWITCHBOARD_JAR = Launch.root().resolve("launcher/target/switchboard.jar");
  /** Socket.IO joins the compare test on request (LOADTEST_TEST_SOCKETIO=1) where its node_modules exist. */
  static final boolean NODE_READY = "1".equals(System.getenv("LOADTEST_TEST_SOCKETIO"))
      && Files.isDirectory(Launch.home().resolve("socketio/node_modules/socket.io"));

  @Test
  @Timeout(120)
  void fanoutAgainstTheRawServerAndSocketIo(@TempDir Path out) throws Exception {
    String servers = NODE_READY ? "raw,socketio" : "raw";
    JsonObject all = Main.execute(new String[] {"compare", "fanout", "--servers", servers, "--subscribers", "20",
        "--rate", "20,40", "--duration", "1", "--warmup", "0.5", "--warmup-first", "0.5", "--workers", "1", "--pause", "0", "--out", out.toString(),
        "--max-minutes", "3"});
    JsonArray runs = all.getJsonArray("runs");
    assertEquals(NODE_READY ? 2 : 1, runs.size());
    for (int i = 0; i < runs.size(); i++) {
      JsonObject run = runs.getJsonObject(i);
      assertNotNull(run.getJsonObject("result"), "run failed: " + run.getString("error"));
      JsonObject r = run.getJsonObject("result");
      JsonObject step = r.getJsonArray("steps").getJsonObject(0);
      assertTrue(step.getDouble("deliveriesPerSecond") > 0, step.encode());
      assertTrue(step.getJsonObject("latencyMs").getLong("count") > 0, step.encode());
      assertTrue(step.getDouble("serverCores") >= 0);
      assertEquals(0, r.getJsonObject("integrity").getLong("missed"), r.getJsonObject("integrity").encode());
    }
    assertTrue(Files.size(out.resolve("result.json")) > 0);
    assertTrue(Files.readString(out.resolve("summary.txt")).contains("deliveries/s"));
    assertPng(out.resolve("fanout-latency.png"));
    assertPng(out.resolve("fanout-sweep.png"));
  }

  /** Soketi joins the Pusher test on request (LOADTEST_TEST_SOKETI=1) where its node_modules exist. */
  static final boolean SOKETI_READY = "1".equals(System.getenv("LOADTEST_TEST_SOKETI"))
      && Files.isDirectory(Launch.home().resolve("soketi/node_modules/@soketi/soketi"));

  @Test
  @Timeout(150)
  void pusherFanoutAgainstSwitchboardAndSoketi(@TempDir Path out) throws Exception {
    Assumptions.assumeTrue(Files.exists(SWITCHBOARD_JAR), "no " + SWITCHBOARD_JAR + " (build the launcher first)");
    String servers = SOKETI_READY ? "switchboard-pusher,soketi" : "switchboard-pusher";
    JsonObject all = Main.execute(new String[] {"compare", "fanout", "--servers", servers, "--subscribers", "20",
        "--rate", "20", "--duration", "1", "--warmup", "0.5", "--warmup-first", "0.5", "--workers", "1", "--pause", "0",
        "--out", out.toString(), "--max-minutes", "3"});
    JsonArray runs = all.getJsonArray("runs");
    assertEquals(SOKETI_READY ? 2 : 1, runs.size());
    for (int i = 0; i < runs.size(); i++) {
      JsonObject run = runs.getJsonObject(i);
      assertNotNull(run.getJsonObject("result"), "run failed: " + run.getString("error"));
      JsonObject step = run.getJsonObject("result").getJsonArray("steps").getJsonObject(0);
      // every publish went through the signed HTTP API (a refused signature would show as http-401)
      assertEquals(new JsonObject(), step.getJsonObject("publishErrors"), step.encode());
      assertTrue(step.getDouble("deliveriesPerSecond") > 0, step.encode());
      assertTrue(step.getJsonObject("latencyMs").getLong("count") > 0, step.encode());
      assertEquals(0, run.getJsonObject("result").getJsonObject("integrity").getLong("missed"),
          run.getJsonObject("result").getJsonObject("integrity").encode());
    }
  }

  @Test
  @Timeout(120)
  void idleAgainstTheRawServerMeasuresHeapPerConnection(@TempDir Path out) throws Exception {
    JsonObject all = Main.execute(new String[] {"run", "idle", "--server", "raw", "--connections", "200",
        "--workers", "1", "--settle", "0.5", "--pause", "0", "--out", out.toString(), "--max-minutes", "3"});
    JsonObject run = all.getJsonArray("runs").getJsonObject(0);
    assertNotNull(run.getJsonObject("result"), "run failed: " + run.getString("error"));
    JsonObject r = run.getJsonObject("result");
    assertEquals(200, r.getJsonObject("open").getLong("opened"));
    assertTrue(r.containsKey("heapPerConnectionBytes"));
    assertTrue(r.getJsonArray("heapGrowthByClass").size() > 0);
    assertPng(out.resolve("idle.png"));
  }

  @Test
  @Timeout(150)
  void fanoutAndReconnectStormAgainstARunningSwitchboard(@TempDir Path out) throws Exception {
    Assumptions.assumeTrue(Files.exists(SWITCHBOARD_JAR), "no " + SWITCHBOARD_JAR + " (build the launcher first)");
    // one server for both runs, given to the tool as an already running target (--target-ws …)
    Options serverOptions = new Options(new String[] {"--switchboard-jar", SWITCHBOARD_JAR.toString()}, 0);
    try (SwitchboardTarget server = SwitchboardTarget.start(serverOptions, "memory", out)) {
      String[] target = {"--target-ws", "ws://127.0.0.1:" + server.port() + "/ws", "--target-auth", server.authUrl(),
          "--target-metrics", server.metricsUrl(), "--admin-key", SwitchboardTarget.ADMIN_KEY,
          "--server-pids", Long.toString(server.pids().get(0)), "--workers", "1", "--pause", "0", "--max-minutes", "3"};
      JsonObject all = Main.execute(concat(new String[] {"run", "fanout", "--subscribers", "20", "--rate", "20",
          "--duration", "1", "--warmup", "0.5", "--warmup-first", "0.5", "--out", out.resolve("fanout").toString()}, target));
      JsonObject run = all.getJsonArray("runs").getJsonObject(0);
      assertNotNull(run.getJsonObject("result"), "run failed: " + run.getString("error"));
      JsonObject step = run.getJsonObject("result").getJsonArray("steps").getJsonObject(0);
      assertTrue(step.getDouble("deliveriesPerSecond") > 0, step.encode());
      assertTrue(step.getDouble("storedPublishesPerSecond") > 0, step.encode());
      assertTrue(step.getDouble("serverCores") > 0, step.encode());
      assertEquals(0, run.getJsonObject("result").getJsonObject("integrity").getLong("missed"));

      all = Main.execute(concat(new String[] {"run", "reconnect-storm", "--connections", "40", "--channels", "4",
          "--rate", "20", "--before", "0.5", "--after", "0.5", "--out", out.resolve("reconnect").toString()}, target));
      run = all.getJsonArray("runs").getJsonObject(0);
      assertNotNull(run.getJsonObject("result"), "run failed: " + run.getString("error"));
      JsonObject r = run.getJsonObject("result");
      assertEquals(40, r.getLong("reconnected"), r.encode());
      assertEquals(40, r.getLong("recoveredTrue"), r.encode());
      assertEquals(0, r.getJsonObject("integrity").getLong("missed"), r.encode());
      assertPng(out.resolve("reconnect/reconnect-storm.png"));
    }
  }

  static String[] concat(String[] a, String[] b) {
    String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  static void assertPng(Path p) throws Exception {
    byte[] head = new byte[8];
    try (var in = Files.newInputStream(p)) {
      assertEquals(8, in.read(head));
    }
    List<Integer> sig = new ArrayList<>();
    for (byte b : head) sig.add(b & 0xff);
    assertEquals(List.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), sig, p + " is not a PNG");
  }
}
