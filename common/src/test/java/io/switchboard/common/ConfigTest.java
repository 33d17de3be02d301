package io.switchboard.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTest {
  @Test
  void defaultsNeedNothing() {
    JsonObject c = Config.load(null, Map.of());
    assertEquals(8080, c.getJsonObject("gateway").getInteger("port"));
    assertEquals("memory", c.getString("engine"));
    NamespaceOptions o = Namespaces.fromConfig(c.getJsonObject("channels")).of("task:1");
    assertEquals(1000, o.historySize());
    assertEquals(24 * 3600, o.historyTtlSeconds());
    assertTrue(o.presence() && o.joinLeave() && o.recovery());
  }

  @Test
  void yamlFileThenEnvironmentOverride(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path f = dir.resolve("sb.yaml");
    Files.writeString(f, "gateway:\n  port: 9000\n  maxQueueBytes: 2048\nchannels:\n  namespaces:\n    typing:\n      historySize: 0\n");
    JsonObject c = Config.load(f, Map.of("SWITCHBOARD_GATEWAY_PORT", "9100", "SWITCHBOARD_ADMIN_KEY", "k"));
    assertEquals(9100, c.getJsonObject("gateway").getInteger("port"));
    assertEquals(2048, c.getJsonObject("gateway").getInteger("maxQueueBytes"));
    assertEquals("k", c.getString("adminKey"));
    assertTrue(Namespaces.fromConfig(c.getJsonObject("channels")).of("typing:x").ephemeral());
  }

  @Test
  void badValuesNameTheirKey() {
    assertEquals("gateway.port", assertThrows(ConfigException.class,
        () -> Config.of(new JsonObject().put("gateway", new JsonObject().put("port", "x")))).key());
    assertEquals("gateway.port", assertThrows(ConfigException.class,
        () -> Config.of(new JsonObject().put("gateway", new JsonObject().put("port", 70000)))).key());
    assertEquals("gatewy", assertThrows(ConfigException.class, () -> Config.of(new JsonObject().put("gatewy", new JsonObject()))).key());
    assertEquals("engine", assertThrows(ConfigException.class, () -> Config.of(new JsonObject().put("engine", "mongo"))).key());
    assertEquals("channels.namespaces.task.historySize", assertThrows(ConfigException.class, () -> Config.of(new JsonObject()
        .put("channels", new JsonObject().put("namespaces", new JsonObject().put("task", new JsonObject().put("historySize", -1)))))).key());
    assertEquals("channels.namespaces.task.histroySize", assertThrows(ConfigException.class, () -> Config.of(new JsonObject()
        .put("channels", new JsonObject().put("namespaces", new JsonObject().put("task", new JsonObject().put("histroySize", 1)))))).key());
    ConfigException env = assertThrows(ConfigException.class, () -> Config.load(null, Map.of("SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS", "soon")));
    assertTrue(env.getMessage().contains("presence.timeoutSeconds") && env.getMessage().contains("SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS"));
  }

  @Test
  void maxHistoryBytesAtAndPastItsBounds() {
    assertEquals(256 * 1024, Config.of(new JsonObject()).getJsonObject("store").getInteger("maxHistoryBytes"));
    assertEquals(1024, Config.of(new JsonObject().put("store", new JsonObject().put("maxHistoryBytes", 1024)))
        .getJsonObject("store").getInteger("maxHistoryBytes"));
    assertEquals("store.maxHistoryBytes", assertThrows(ConfigException.class,
        () -> Config.of(new JsonObject().put("store", new JsonObject().put("maxHistoryBytes", 1023)))).key());
  }

  @Test
  void webhookSettingsAtAndPastTheirBounds() {
    String[][] bounds = {{"holdMs", "0", "60000"}, {"retryForSeconds", "0", "604800"}, {"backoffMs", "10", null},
        {"maxBackoffMs", "10", null}, {"maxBatch", "1", "10000"}, {"pollMs", "10", "60000"}, {"timeoutMs", "100", null}};
    for (String[] b : bounds) {
      long min = Long.parseLong(b[1]);
      assertEquals(min, Config.of(new JsonObject().put("webhooks", new JsonObject().put(b[0], min))).getJsonObject("webhooks").getLong(b[0]));
      assertEquals("webhooks." + b[0], assertThrows(ConfigException.class,
          () -> Config.of(new JsonObject().put("webhooks", new JsonObject().put(b[0], min - 1)))).key());
      if (b[2] == null) continue;
      long max = Long.parseLong(b[2]);
      assertEquals(max, Config.of(new JsonObject().put("webhooks", new JsonObject().put(b[0], max))).getJsonObject("webhooks").getLong(b[0]));
      assertEquals("webhooks." + b[0], assertThrows(ConfigException.class,
          () -> Config.of(new JsonObject().put("webhooks", new JsonObject().put(b[0], max + 1)))).key());
    }
  }

  @Test
  void envNames() {
    assertEquals("SWITCHBOARD_GATEWAY_MAX_QUEUE_BYTES", Config.envName("gateway.maxQueueBytes"));
    assertEquals("SWITCHBOARD_ADMIN_KEY", Config.envName("adminKey"));
  }

  @Test
  void strictNamespacesRefuseUnknownOnes() {
    Namespaces ns = Namespaces.fromConfig(new JsonObject().put("strictNamespaces", true)
        .put("namespaces", new JsonObject().put("task", new JsonObject())));
    assertNull(ns.of("nope:1"));
    assertTrue(ns.of("task:1") != null && ns.of("plain") != null && ns.of("user:a") != null);
  }

  @Test
  void personalNamespaceKeepsHistoryButNoPresenceUnlessConfigured() {
    NamespaceOptions user = Namespaces.fromConfig(new JsonObject()).of("user:a1");
    assertEquals(1000, user.historySize());
    assertTrue(user.recovery());
    assertFalse(user.presence() || user.joinLeave());
    NamespaceOptions configured = Namespaces.fromConfig(new JsonObject()
        .put("namespaces", new JsonObject().put("user", new JsonObject().put("presence", true)))).of("user:a1");
    assertTrue(configured.presence());
  }

  @Test
  void channelRules() {
    assertNull(Channels.invalidReason("task:42"));
    assertNull(Channels.invalidReason("dm:#alice,bob"));
    assertTrue(Channels.invalidReason("a b").contains("position 1"));
    assertTrue(Channels.invalidReason("x".repeat(256)).contains("255"));
    assertTrue(Channels.invalidReason("").contains("empty"));
    assertEquals("task", Channels.namespace("task:42"));
    assertEquals("", Channels.namespace("milo.a1.cmd"));
    assertTrue(Channels.nameAllowsSubscriber("user:a", "a"));
    assertFalse(Channels.nameAllowsSubscriber("user:a", "b"));
    assertTrue(Channels.nameAllowsSubscriber("dm:#alice,bob", "bob"));
    assertFalse(Channels.nameAllowsSubscriber("dm:#alice,bob", "carol"));
  }

  @Test
  void grantsMatchExactAndPrefix() {
    Grants g = Grants.parse(new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("channel", "agent.{sub}.cmd").put("capabilities", new io.vertx.core.json.JsonArray().add("subscribe")))
        .add(new JsonObject().put("channel", "task:*").put("capabilities", new io.vertx.core.json.JsonArray().add("publish"))), "grants")
        .withSubject("a1");
    assertTrue(g.allows("agent.a1.cmd", Capability.SUBSCRIBE));
    assertFalse(g.allows("agent.a2.cmd", Capability.SUBSCRIBE));
    assertFalse(g.allows("agent.a1.cmd", Capability.PUBLISH));
    assertTrue(g.allows("task:9", Capability.PUBLISH));
    ServiceError e = assertThrows(ServiceError.class, () -> Grants.parse(new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("channel", "x").put("capabilities", new io.vertx.core.json.JsonArray().add("fly"))), "grants"));
    assertTrue(e.getMessage().contains("grants[0]") && e.getMessage().contains("fly"));
  }

  @Test
  void ulidsAreTimeOrdered() {
    String a = Ids.ulid(1000);
    String b = Ids.ulid(2000);
    assertEquals(26, a.length());
    assertTrue(a.compareTo(b) < 0);
  }
}
