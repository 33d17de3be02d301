package io.switchboard.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code loadtest scale} end to end at a small scale: the real local cluster (deploy/local/cluster with three gateway
 * JVMs, one services JVM and Redis), real worker processes and sockets. Proves the connections land evenly on the
 * gateways, every delivery is counted, and the fan-out bus carries exactly one message per publish and gateway with a
 * subscriber: 30 channels over 3 gateways put each channel's 5 subscribers on one gateway (subscriber g takes channel
 * g % 30 and gateway g % 3), so a publish costs 1 bus message, not 5.
 */
class ScaleScenarioTest {
  @Test
  @Timeout(150)
  void threeGatewaysFiftyConnectionsEachOneBusMessagePerGatewayWithSubscribers(@TempDir Path out) throws Exception {
    Assumptions.assumeTrue(Files.exists(ScenarioRunTest.SWITCHBOARD_JAR), "no " + ScenarioRunTest.SWITCHBOARD_JAR + " (build the launcher first)");
    JsonObject all = Main.execute(new String[] {"scale", "--connections", "150", "--channels", "30", "--rate", "60",
        "--duration", "2", "--publishers", "2", "--settle", "0.2", "--idle", "0.5", "--workers", "1", "--pause", "0",
        "--gateway-jvm-opts", "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1", "--server-jvm-opts", "-XX:TieredStopAtLevel=1",
        "--out", out.toString(), "--max-minutes", "3"});
    JsonObject run = all.getJsonArray("runs").getJsonObject(0);
    assertNotNull(run.getJsonObject("result"), "run failed: " + run.getString("error"));
    JsonObject r = run.getJsonObject("result");
    assertEquals(3, r.getInteger("gateways"));
    // 150 subscribers and the 2 publishers (on gateway-1)
    assertEquals(152, r.getLong("serverConnections"), r.encode());
    JsonObject byGateway = r.getJsonObject("connectionsByGateway");
    assertEquals(52.0, byGateway.getDouble("gateway-1"), byGateway.encode());
    assertEquals(50.0, byGateway.getDouble("gateway-2"), byGateway.encode());
    assertEquals(50.0, byGateway.getDouble("gateway-3"), byGateway.encode());
    // every process measured: the services JVM, three gateways, Redis
    assertEquals(java.util.Set.of("services", "gateway-1", "gateway-2", "gateway-3", "redis"), r.getJsonObject("rssIdleBytes").fieldNames());
    for (String role : r.getJsonObject("rssIdleBytes").fieldNames()) assertTrue(r.getJsonObject("rssIdleBytes").getLong(role) > 0, role);

    JsonObject p = r.getJsonObject("publish");
    assertTrue(p.getLong("storedPublishes") > 0, p.encode());
    // the whole schedule (60/s for 2 s) is accounted for: sent and stored, or skipped and counted
    assertEquals(120, p.getLong("scheduledSends"), p.encode());
    assertEquals(120, p.getLong("storedPublishes") + p.getLong("skippedSends"), p.encode());
    assertEquals(p.getLong("expectedDeliveries"), p.getLong("deliveries"), p.encode());
    assertEquals(5 * p.getLong("storedPublishes"), p.getLong("expectedDeliveries"), p.encode());
    JsonObject integrity = r.getJsonObject("integrity");
    assertEquals(0, integrity.getLong("missed"), integrity.encode());
    assertEquals(0, integrity.getLong("duplicates"), integrity.encode());

    JsonObject bus = r.getJsonObject("fanoutBus");
    assertEquals(p.getLong("storedPublishes"), bus.getLong("expectedMessages"), bus.encode());
    assertEquals(bus.getLong("expectedMessages"), bus.getLong("messagesReceivedByGateways"), bus.encode());
    assertEquals(bus.getLong("expectedMessages"), bus.getLong("messagesSent"), bus.encode());
    assertEquals(1.0, bus.getDouble("perPublish"), bus.encode());
    assertEquals(5.0, bus.getDouble("subscribersPerPublish"), bus.encode());
    assertTrue(Files.readString(out.resolve("summary.txt")).contains("bus messages per publish"));
  }
}
