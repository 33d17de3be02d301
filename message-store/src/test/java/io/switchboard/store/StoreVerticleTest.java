package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.Config;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The store service over the real event bus: request/reply JSON, error codes, and the fan-out it publishes.
 * Runs on the memory engine; {@link RedisStoreVerticleTest} runs the same tests on Redis.
 */
class StoreVerticleTest {
  static final int MAX_LIMIT = 20;
  static final int MAX_ACK_IDS = 5;
  private static final AtomicInteger COUNTER = new AtomicInteger();

  static Vertx vertx;
  private final List<Publication> fanout = new CopyOnWriteArrayList<>();
  private MessageConsumer<Publication> fanoutConsumer;

  static JsonObject config(String engine, String redisUrl) {
    return Config.of(new JsonObject()
        .put("engine", engine)
        .put("redis", new JsonObject().put("url", redisUrl))
        .put("store", new JsonObject().put("maxHistoryLimit", MAX_LIMIT).put("maxAckIds", MAX_ACK_IDS))
        .put("channels", new JsonObject()
            .put("strictNamespaces", true)
            .put("namespaces", new JsonObject()
                .put("task", new JsonObject())
                .put("eph", new JsonObject().put("historySize", 0))
                .put("slow", new JsonObject().put("publishRatePerSecond", 2))
                .put("norec", new JsonObject().put("recovery", false)))));
  }

  static void deploy(JsonObject config) {
    vertx = Vertx.vertx();
    Await.result(vertx.deployVerticle(new StoreVerticle(), new io.vertx.core.DeploymentOptions().setConfig(config)));
  }

  @BeforeAll
  static void start() {
    deploy(config("memory", "redis://127.0.0.1:1"));
  }

  @AfterAll
  static void stop() {
    Await.result(vertx.close());
  }

  @BeforeEach
  void listen() {
    fanoutConsumer = vertx.eventBus().consumer(Addresses.gatewayNode("probe"), (Message<Publication> m) -> fanout.add(m.body()));
    io.switchboard.common.Fanout.of(vertx).addInterest("probe", io.switchboard.common.Fanout.ALL_CHANNELS);
    Await.result(fanoutConsumer.completion());
  }

  @AfterEach
  void unlisten() {
    Await.result(fanoutConsumer.unregister());
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  static String channel(String namespace) {
    return namespace + ":c" + COUNTER.incrementAndGet() + "-" + Ids.hex(4);
  }

  static Future<JsonObject> request(String address, Object body) {
    return vertx.eventBus().<JsonObject>request(address, body).map(Message::body);
  }

  static JsonObject ok(String address, Object body) {
    return Await.result(request(address, body));
  }

  static ServiceError error(String address, Object body, ErrorCode code) {
    ServiceError e = ServiceError.from(Await.failure(request(address, body)), "store");
    assertEquals(code, e.code(), e.getMessage());
    assertFalse(e.getMessage().isEmpty());
    return e;
  }

  static JsonObject publication(String channel) {
    return new JsonObject().put("channel", channel).put("event", "note").put("data", new JsonObject().put("x", 1))
        .put("source", new JsonObject().put("type", "agent").put("id", "a1"));
  }

  static JsonObject append(JsonObject publication) {
    return new JsonObject().put("publication", publication);
  }

  List<Publication> fannedOut(String channel) {
    return fanout.stream().filter(p -> p.channel().equals(channel)).toList();
  }

  // --- append and fan-out --------------------------------------------------------------------------------------

  @Test
  @DisplayName("appends reply their position and are fanned out once each, in offset order")
  void appendFanoutInOrder() {
    String ch = channel("task");
    String other = channel("");
    int n = 200;
    List<Future<JsonObject>> replies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      replies.add(request(Addresses.STORE_APPEND, append(publication(ch).put("data", i))));
      if (i % 4 == 0) replies.add(request(Addresses.STORE_APPEND, append(publication(other))));
    }
    Await.until("all fanned out", () -> fannedOut(ch).size() >= n);
    List<Publication> got = fannedOut(ch);
    assertEquals(n, got.size());
    for (int i = 0; i < n; i++) {
      assertEquals(i + 1, got.get(i).offset());
      assertEquals(i, got.get(i).data(), "publication " + (i + 1) + " carries what was published");
    }
    JsonObject first = Await.result(replies.get(0));
    assertEquals(got.get(0).id(), first.getString("id"));
    assertEquals(1, first.getLong("offset"));
    assertEquals(got.get(0).epoch(), first.getString("epoch"));
    assertEquals(got.get(0).timestamp(), Instant.parse(first.getString("timestamp")).toEpochMilli());
    assertNull(first.getValue("duplicate"));
    assertEquals("agent", got.get(0).sourceType());
    Await.until("other channel fanned out", () -> fannedOut(other).size() == n / 4);
  }

  @Test
  @DisplayName("an idempotent repeat replies the first result with duplicate:true and is not fanned out again")
  void duplicateNotFannedOut() {
    String ch = channel("task");
    JsonObject req = append(publication(ch)).put("idempotencyKey", "k-1");
    JsonObject first = ok(Addresses.STORE_APPEND, req);
    JsonObject repeat = ok(Addresses.STORE_APPEND, req);
    assertEquals(true, repeat.getBoolean("duplicate"));
    assertEquals(first.getString("id"), repeat.getString("id"));
    assertEquals(first.getLong("offset"), repeat.getLong("offset"));
    ok(Addresses.STORE_APPEND, append(publication(ch)));
    Await.until("second publication fanned out", () -> fannedOut(ch).size() >= 2);
    assertEquals(List.of(1L, 2L), fannedOut(ch).stream().map(Publication::offset).toList());
  }

  @Test
  @DisplayName("bad appends are refused with the matching code; a refused append stores nothing")
  void appendErrors() {
    String ch = channel("task");
    error(Addresses.STORE_APPEND, "not json", ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, new JsonObject(), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, append(publication("bad channel!")), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, append(publication("nope:x")), ErrorCode.UNKNOWN_CHANNEL);
    error(Addresses.STORE_APPEND, append(publication("eph:x")), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, append(publication(ch).put("event", "")), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, append(publication(ch).put("priority", "urgent")), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, append(publication(ch).put("ttl", -1)), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, append(publication(ch).put("ttl", 1.5)), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, append(publication(ch).put("tags", new JsonArray().add(1))), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, append(publication(ch).put("requiresAck", "yes")), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_APPEND, append(publication(ch).put("source", "agent")), ErrorCode.BAD_REQUEST);
    String key = "k".repeat(StoreJson.MAX_IDEMPOTENCY_KEY);
    error(Addresses.STORE_APPEND, append(publication(ch)).put("idempotencyKey", key + "k"), ErrorCode.BAD_REQUEST);
    assertEquals(0, position(ch).getLong("offset"), "nothing stored by refused appends");
    assertEquals(1, ok(Addresses.STORE_APPEND, append(publication(ch)).put("idempotencyKey", key)).getLong("offset"));
  }

  @Test
  @DisplayName("past publishRatePerSecond an append is rate_limited with retryAfterMs")
  void rateLimited() {
    String ch = channel("slow");
    ok(Addresses.STORE_APPEND, append(publication(ch)));
    ok(Addresses.STORE_APPEND, append(publication(ch)));
    ServiceError e = error(Addresses.STORE_APPEND, append(publication(ch)), ErrorCode.RATE_LIMITED);
    long retry = e.extra().getLong("retryAfterMs");
    assertTrue(retry > 0 && retry <= 1000, "retryAfterMs " + retry);
  }

  // --- position and recovery -----------------------------------------------------------------------------------

  JsonObject position(String ch) {
    return ok(Addresses.STORE_POSITION, new JsonObject().put("channels", new JsonArray().add(ch)))
        .getJsonArray("channels").getJsonObject(0);
  }

  @Test
  @DisplayName("position answers every channel: positions, recoveries and per-channel errors")
  void positionAndRecovery() {
    String ch = channel("task");
    String fresh = channel("task");
    String noRecovery = channel("norec");
    JsonObject empty = position(ch);
    assertEquals(0, empty.getLong("offset"));
    String epoch = empty.getString("epoch");
    for (int i = 0; i < 3; i++) ok(Addresses.STORE_APPEND, append(publication(ch)));
    ok(Addresses.STORE_APPEND, append(publication(noRecovery)));
    String norecEpoch = position(noRecovery).getString("epoch");
    JsonArray channels = new JsonArray()
        .add(new JsonObject().put("channel", ch).put("recover", new JsonObject().put("offset", 1).put("epoch", epoch)))
        .add(new JsonObject().put("channel", ch).put("recover", new JsonObject().put("offset", 1).put("epoch", "x")))
        .add(fresh)
        .add("eph:x")
        .add(new JsonObject().put("channel", "nope:x"))
        .add(new JsonObject().put("channel", ch).put("recover", "bad"))
        .add(new JsonObject().put("channel", noRecovery)
            .put("recover", new JsonObject().put("offset", 0).put("epoch", norecEpoch)));
    JsonArray out = ok(Addresses.STORE_POSITION, new JsonObject().put("channels", channels)).getJsonArray("channels");
    assertEquals(channels.size(), out.size());
    JsonObject recovered = out.getJsonObject(0);
    assertEquals(ch, recovered.getString("channel"));
    assertEquals(true, recovered.getBoolean("recovered"));
    assertEquals(3, recovered.getLong("offset"));
    assertEquals(epoch, recovered.getString("epoch"));
    List<Long> offsets = new ArrayList<>();
    for (Object p : recovered.getJsonArray("publications")) offsets.add(Publication.fromJson((JsonObject) p).offset());
    assertEquals(List.of(2L, 3L), offsets);
    assertEquals(false, out.getJsonObject(1).getBoolean("recovered"));
    assertTrue(out.getJsonObject(1).getJsonArray("publications").isEmpty());
    assertEquals(0, out.getJsonObject(2).getLong("offset"));
    assertNull(out.getJsonObject(2).getValue("recovered"));
    assertEquals("bad_request", out.getJsonObject(3).getJsonObject("error").getString("code"));
    assertEquals("eph:x", out.getJsonObject(3).getString("channel"));
    assertEquals("unknown_channel", out.getJsonObject(4).getJsonObject("error").getString("code"));
    assertEquals("bad_request", out.getJsonObject(5).getJsonObject("error").getString("code"));
    assertEquals(false, out.getJsonObject(6).getBoolean("recovered"), "recovery is off in this namespace");
  }

  @Test
  @DisplayName("position takes up to 1000 channels per request; more is a bad_request")
  void positionLimit() {
    JsonArray many = new JsonArray();
    for (int i = 0; i < 1000; i++) many.add("task:many-" + i);
    assertEquals(1000, ok(Addresses.STORE_POSITION, new JsonObject().put("channels", many)).getJsonArray("channels").size());
    error(Addresses.STORE_POSITION, new JsonObject().put("channels", many.copy().add("task:one-more")), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_POSITION, new JsonObject().put("channels", "task:x"), ErrorCode.BAD_REQUEST);
  }

  @Test
  @DisplayName("heads over the bus: channels with state in the order asked; the others, ephemeral and unconfigured ones left out; bounded like position")
  void heads() {
    String a = channel("task");
    String b = channel("task");
    String none = channel("task");
    String eph = channel("eph");
    ok(Addresses.STORE_APPEND, append(publication(a)));
    JsonObject second = ok(Addresses.STORE_APPEND, append(publication(a)));
    JsonObject positioned = position(b);
    JsonObject heads = ok(Addresses.STORE_HEADS, new JsonObject().put("channels", new JsonArray().add(none).add(b).add(eph).add("nowhere:x").add(a)));
    assertEquals(new JsonArray()
        .add(new JsonObject().put("channel", b).put("offset", 0L).put("epoch", positioned.getString("epoch")))
        .add(new JsonObject().put("channel", a).put("offset", 2L).put("epoch", second.getString("epoch"))),
        heads.getJsonArray("channels"));

    JsonArray many = new JsonArray();
    for (int i = 0; i < 1000; i++) many.add("task:many-" + i);
    assertEquals(0, ok(Addresses.STORE_HEADS, new JsonObject().put("channels", many)).getJsonArray("channels").size());
    assertTrue(error(Addresses.STORE_HEADS, new JsonObject().put("channels", many.copy().add("task:one-more")), ErrorCode.BAD_REQUEST)
        .getMessage().contains("1001"));
    assertTrue(error(Addresses.STORE_HEADS, new JsonObject().put("channels", "task:x"), ErrorCode.BAD_REQUEST)
        .getMessage().contains("channels must be an array"));
    assertTrue(error(Addresses.STORE_HEADS, new JsonObject().put("channels", new JsonArray().add(a).add(7)), ErrorCode.BAD_REQUEST)
        .getMessage().contains("channels[1]"));
  }

  // --- history -------------------------------------------------------------------------------------------------

  @Test
  @DisplayName("history over the bus: filters, since, limit at and past the maximum, wrong epoch")
  void history() {
    String ch = channel("task");
    for (int i = 0; i < MAX_LIMIT + 2; i++) {
      JsonObject p = publication(ch).put("priority", i == 3 ? "high" : "low").put("tags", new JsonArray().add("t" + (i % 2)));
      if (i == 5) p.put("requiresAck", true).put("source", new JsonObject().put("type", "user").put("id", "u1"));
      ok(Addresses.STORE_APPEND, append(p));
    }
    JsonObject all = ok(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch));
    assertEquals(MAX_LIMIT, all.getJsonArray("publications").size(), "limit defaults to the maximum");
    assertEquals(MAX_LIMIT + 2, all.getLong("offset"));
    String epoch = all.getString("epoch");
    assertEquals(MAX_LIMIT, ok(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch).put("limit", MAX_LIMIT))
        .getJsonArray("publications").size());
    error(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch).put("limit", MAX_LIMIT + 1), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch).put("limit", -1), ErrorCode.BAD_REQUEST);

    JsonObject since = new JsonObject().put("offset", 20).put("epoch", epoch);
    JsonArray after = ok(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch).put("since", since))
        .getJsonArray("publications");
    assertEquals(2, after.size());
    assertEquals(21, after.getJsonObject(0).getLong("offset"));
    JsonArray back = ok(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch).put("since", since)
        .put("reverse", true).put("limit", 2)).getJsonArray("publications");
    assertEquals(List.of(19L, 18L), List.of(back.getJsonObject(0).getLong("offset"), back.getJsonObject(1).getLong("offset")));
    error(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch).put("since", since.copy().put("epoch", "zz")),
        ErrorCode.UNRECOVERABLE_POSITION);
    // since and sinceTime together: both bounds apply (how a cut sinceTime page continues)
    assertEquals(2, ok(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch).put("since", since).put("sinceTime", 1))
        .getJsonArray("publications").size());
    assertEquals(MAX_LIMIT, ok(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch)
        .put("sinceTime", "2000-01-01T00:00:00Z")).getJsonArray("publications").size());

    assertEquals(4, filtered(ch, new JsonObject().put("priority", new JsonArray().add("high"))).getLong("offset"));
    assertEquals(6, filtered(ch, new JsonObject().put("sourceType", new JsonArray().add("user"))).getLong("offset"));
    assertEquals(1, filtered(ch, new JsonObject().put("tags", new JsonArray().add("t0"))).getLong("offset"));
    JsonObject unacked = new JsonObject().put("channel", ch).put("filter", new JsonObject().put("unacked", true));
    error(Addresses.STORE_HISTORY, unacked, ErrorCode.BAD_REQUEST);
    assertEquals(1, ok(Addresses.STORE_HISTORY, unacked.copy().put("subject", "u9")).getJsonArray("publications").size());
    error(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch)
        .put("filter", new JsonObject().put("priority", new JsonArray().add("urgent"))), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_HISTORY, new JsonObject().put("channel", "eph:x"), ErrorCode.BAD_REQUEST);
  }

  private JsonObject filtered(String ch, JsonObject filter) {
    return ok(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch).put("filter", filter).put("limit", 1))
        .getJsonArray("publications").getJsonObject(0);
  }

  // --- ack and pending -----------------------------------------------------------------------------------------

  @Test
  @DisplayName("ack replies the acked ids, publishes message.acked once per newly acked id; pending follows")
  void ackAndPending() {
    String ch = channel("task");
    String id1 = ok(Addresses.STORE_APPEND, append(publication(ch).put("requiresAck", true))).getString("id");
    String id2 = ok(Addresses.STORE_APPEND, append(publication(ch).put("requiresAck", true))).getString("id");
    JsonObject pending = ok(Addresses.STORE_PENDING, new JsonObject().put("channel", ch).put("subject", "u1"));
    assertEquals(2, pending.getJsonArray("publications").size());

    JsonObject ack = new JsonObject().put("channel", ch).put("subject", "u1");
    assertEquals(new JsonArray().add(id1), ok(Addresses.STORE_ACK, ack.copy().put("ids", new JsonArray().add(id1).add("nope")))
        .getJsonArray("acked"));
    assertEquals(new JsonArray().add(id1).add(id2),
        ok(Addresses.STORE_ACK, ack.copy().put("ids", new JsonArray().add(id1).add(id2))).getJsonArray("acked"));
    Await.until("acked events", () -> fannedOut(ch).size() >= 4);
    List<Publication> events = fannedOut(ch).stream().filter(p -> !p.stored()).toList();
    assertEquals(2, events.size(), "one message.acked per newly acked id");
    assertEquals("message.acked", events.get(0).event());
    assertEquals(new JsonObject().put("id", id1).put("by", "u1"), events.get(0).data());
    assertEquals(new JsonObject().put("id", id2).put("by", "u1"), events.get(1).data());

    assertTrue(ok(Addresses.STORE_PENDING, new JsonObject().put("channel", ch).put("subject", "u1"))
        .getJsonArray("publications").isEmpty());
    JsonArray five = new JsonArray();
    for (int i = 0; i < MAX_ACK_IDS; i++) five.add("id" + i);
    assertTrue(ok(Addresses.STORE_ACK, ack.copy().put("ids", five)).getJsonArray("acked").isEmpty());
    error(Addresses.STORE_ACK, ack.copy().put("ids", five.copy().add("one-more")), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_ACK, ack.copy().put("ids", "id"), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_ACK, new JsonObject().put("channel", ch).put("ids", new JsonArray()), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_PENDING, new JsonObject().put("channel", ch), ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_PENDING, new JsonObject().put("channel", "nope:x").put("subject", "u1"), ErrorCode.UNKNOWN_CHANNEL);
    assertNotNull(events.get(0).channel());
  }
}
