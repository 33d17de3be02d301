package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Fanout;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code store.append.batch} over the real event bus, on both engines (Redis: embedded-redis): each entry answered
 * alone, in order, one channel's entries stored and fanned out in array order, and the entry limit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoreAppendBatchTest {
  private final Map<String, Vertx> engines = new java.util.HashMap<>();
  private final List<Publication> fanout = new CopyOnWriteArrayList<>();

  @BeforeAll
  void start() {
    for (String engine : List.of("memory", "redis")) {
      Vertx v = Vertx.vertx();
      JsonObject config = StoreVerticleTest.config(engine, engine.equals("redis") ? TestRedis.shared().url() : "redis://127.0.0.1:1");
      Await.result(v.deployVerticle(new StoreVerticle(), new DeploymentOptions().setConfig(config)));
      Await.result(v.eventBus().<Publication>consumer(Addresses.gatewayNode("probe"), m -> fanout.add(m.body())).completion());
      Fanout.of(v).addInterest("probe", Fanout.ALL_CHANNELS);
      engines.put(engine, v);
    }
  }

  @AfterAll
  void stop() {
    for (Vertx v : engines.values()) Await.result(v.close());
  }

  private Future<JsonObject> batch(String engine, List<Object> entries) {
    return engines.get(engine).eventBus().<JsonObject>request(Addresses.STORE_APPEND_BATCH,
        new JsonObject().put("publications", new JsonArray(entries))).map(Message::body);
  }

  private static JsonObject entry(String channel, Object data) {
    return StoreVerticleTest.append(StoreVerticleTest.publication(channel).put("data", data));
  }

  private static ErrorCode code(JsonObject result) {
    assertTrue(result.containsKey("error"), "an error, got " + result);
    assertFalse(result.getJsonObject("error").getString("message", "").isEmpty(), "the error names what was wrong");
    return ErrorCode.fromWire(result.getJsonObject("error").getString("code"));
  }

  private List<Publication> fannedOut(String channel) {
    return fanout.stream().filter(p -> p.channel().equals(channel)).toList();
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "redis"})
  @DisplayName("each publication of a batch gets its own outcome, in order; one channel's keep their order; a bad one fails alone")
  void outcomesPerPublication(String engine) {
    String ch = StoreVerticleTest.channel("task");
    String other = StoreVerticleTest.channel("task");
    String slow = StoreVerticleTest.channel("slow");
    List<Object> entries = new ArrayList<>(List.of(
        entry(ch, 0), entry(other, 0), entry("eph:x", 0), entry(ch, 1), entry("nope:x", 0), "not an object",
        entry(ch, 2).put("idempotencyKey", "k-1"), entry(ch, 3).put("idempotencyKey", "k-1"),
        entry(slow, 0), entry(slow, 1), entry(slow, 2), entry(ch, 4)));
    JsonArray results = Await.result(batch(engine, entries)).getJsonArray("results");
    assertEquals(entries.size(), results.size());
    assertEquals(1, results.getJsonObject(0).getLong("offset"));
    assertEquals(1, results.getJsonObject(1).getLong("offset"));
    assertEquals(ErrorCode.BAD_REQUEST, code(results.getJsonObject(2)));
    assertEquals(2, results.getJsonObject(3).getLong("offset"));
    assertEquals(ErrorCode.UNKNOWN_CHANNEL, code(results.getJsonObject(4)));
    assertEquals(ErrorCode.BAD_REQUEST, code(results.getJsonObject(5)));
    assertTrue(results.getJsonObject(5).getJsonObject("error").getString("message").contains("publications[5]"));
    JsonObject keyed = results.getJsonObject(6);
    assertEquals(3, keyed.getLong("offset"));
    assertNull(keyed.getValue("duplicate"));
    JsonObject repeat = results.getJsonObject(7);
    assertEquals(true, repeat.getBoolean("duplicate"), "the same idempotency key within one batch: " + repeat);
    assertEquals(keyed.getString("id"), repeat.getString("id"));
    assertEquals(3, repeat.getLong("offset"));
    assertEquals(1, results.getJsonObject(8).getLong("offset"));
    assertEquals(2, results.getJsonObject(9).getLong("offset"));
    JsonObject limited = results.getJsonObject(10);
    assertEquals(ErrorCode.RATE_LIMITED, code(limited), "slow allows 2/s");
    long retry = limited.getJsonObject("error").getLong("retryAfterMs");
    assertTrue(retry > 0 && retry <= 1000, "retryAfterMs " + retry);
    assertEquals(4, results.getJsonObject(11).getLong("offset"));

    Await.until("fanned out", () -> fannedOut(ch).size() >= 4);
    List<Publication> got = fannedOut(ch);
    assertEquals(List.of(1L, 2L, 3L, 4L), got.stream().map(Publication::offset).toList());
    assertEquals(List.of(0, 1, 2, 4), got.stream().map(Publication::data).toList(), "array order, the duplicate not again");
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "redis"})
  @DisplayName("a batch holds 1 to 256 publications: 256 are stored in order, 257 or none are refused whole")
  void entryLimit(String engine) {
    String ch = StoreVerticleTest.channel("task");
    List<Object> max = new ArrayList<>();
    for (int i = 0; i < Addresses.STORE_APPEND_BATCH_MAX; i++) max.add(entry(ch, i));
    List<Object> over = new ArrayList<>(max);
    over.add(entry(ch, "over"));
    // sent back to back without waiting: the second batch's entries follow the first's
    Future<JsonObject> first = batch(engine, max);
    Future<JsonObject> second = batch(engine, List.of(entry(ch, "next")));
    JsonArray results = Await.result(first).getJsonArray("results");
    assertEquals(Addresses.STORE_APPEND_BATCH_MAX, results.size());
    for (int i = 0; i < results.size(); i++) assertEquals(i + 1L, results.getJsonObject(i).getLong("offset"));
    assertEquals(Addresses.STORE_APPEND_BATCH_MAX + 1L, Await.result(second).getJsonArray("results").getJsonObject(0).getLong("offset"));

    for (Future<JsonObject> refused : List.of(batch(engine, over), batch(engine, List.of()),
        engines.get(engine).eventBus().<JsonObject>request(Addresses.STORE_APPEND_BATCH, new JsonObject()).map(Message::body))) {
      ServiceError e = ServiceError.from(Await.failure(refused), "store");
      assertEquals(ErrorCode.BAD_REQUEST, e.code(), e.getMessage());
      assertTrue(e.getMessage().contains("publications"), e.getMessage());
    }
    JsonObject position = Await.result(engines.get(engine).eventBus().<JsonObject>request(Addresses.STORE_POSITION,
        new JsonObject().put("channels", new JsonArray().add(ch))).map(Message::body));
    assertEquals(Addresses.STORE_APPEND_BATCH_MAX + 1L, position.getJsonArray("channels").getJsonObject(0).getLong("offset"),
        "a refused batch stores nothing");
  }
}
