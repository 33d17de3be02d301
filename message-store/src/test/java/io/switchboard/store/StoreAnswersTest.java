package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.Config;
import io.switchboard.common.Defaults;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Hostile and oversize requests to the store service over the real event bus: every one is answered, bad input
 * with {@code bad_request} naming what was wrong, and answers stay within store.maxHistoryBytes. Memory engine;
 * {@link RedisStoreAnswersTest} runs the same on Redis.
 */
class StoreAnswersTest {
  /** The smallest bound the config accepts: a few publications per answer. */
  static final int MAX_BYTES = 1024;
  private static final AtomicInteger COUNTER = new AtomicInteger();
  static Vertx vertx;

  static void deploy(String engine, String redisUrl) {
    vertx = Vertx.vertx();
    JsonObject config = Config.of(new JsonObject()
        .put("engine", engine)
        .put("redis", new JsonObject().put("url", redisUrl))
        .put("store", new JsonObject().put("maxHistoryBytes", MAX_BYTES)));
    Await.result(vertx.deployVerticle(new StoreVerticle(), new DeploymentOptions().setConfig(config)));
  }

  @BeforeAll
  static void start() {
    deploy("memory", "redis://127.0.0.1:1");
  }

  @AfterAll
  static void stop() {
    Await.result(vertx.close());
  }

  static String channel() {
    return "task:a" + COUNTER.incrementAndGet() + "-" + Ids.hex(4);
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
    return e;
  }

  static JsonObject publish(String ch, Object data, boolean requiresAck) {
    return ok(Addresses.STORE_APPEND, new JsonObject().put("publication", new JsonObject().put("channel", ch)
        .put("event", "note").put("data", data).put("requiresAck", requiresAck)));
  }

  /** {@code depth} nested arrays. */
  static JsonArray nested(int depth) {
    JsonArray root = new JsonArray();
    JsonArray cur = root;
    for (int i = 1; i < depth; i++) {
      JsonArray next = new JsonArray();
      cur.add(next);
      cur = next;
    }
    return root;
  }

  static int size(JsonArray pubs) {
    int n = 0;
    for (int i = 0; i < pubs.size(); i++) n += pubs.getJsonObject(i).toBuffer().length();
    return n;
  }

  @Test
  @DisplayName("publication data nested to the limit is stored and read back; one level deeper is bad_request")
  void dataDepth() {
    String ch = channel();
    int max = Defaults.MAX_JSON_DEPTH;
    publish(ch, nested(max), false);
    ServiceError e = error(Addresses.STORE_APPEND, new JsonObject().put("publication", new JsonObject()
        .put("channel", ch).put("event", "note").put("data", nested(max + 1))), ErrorCode.BAD_REQUEST);
    assertEquals("publication.data nests deeper than " + max + " levels of objects/arrays, the most accepted", e.getMessage());
    error(Addresses.STORE_APPEND, new JsonObject().put("publication", new JsonObject()
        .put("channel", ch).put("event", "note").put("data", nested(300))), ErrorCode.BAD_REQUEST); // the bus itself copies it recursively in the sender
    JsonObject history = ok(Addresses.STORE_HISTORY, new JsonObject().put("channel", ch));
    assertEquals(1, history.getJsonArray("publications").size(), "only the legal one was stored");
    assertEquals(nested(max), history.getJsonArray("publications").getJsonObject(0).getValue("data"));
  }

  @Test
  @DisplayName("sinceTime and offsets out of range are answered bad_request, at and past each bound")
  void rangesAnswered() {
    String ch = channel();
    publish(ch, 1, false);
    JsonObject q = new JsonObject().put("channel", ch);
    for (Object bad : new Object[] {"+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "+10000-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999Z", Long.MAX_VALUE, 1e30, StoreJson.MAX_SINCE_TIME + 1, -1, "yesterday"}) {
      ServiceError e = error(Addresses.STORE_HISTORY, q.copy().put("sinceTime", bad), ErrorCode.BAD_REQUEST);
      assertTrue(e.getMessage().startsWith("sinceTime"), e.getMessage());
    }
    for (Object fine : new Object[] {"9999-12-31T23:59:59.999Z", StoreJson.MAX_SINCE_TIME, 0, "1970-01-01T00:00:00Z"}) {
      ok(Addresses.STORE_HISTORY, q.copy().put("sinceTime", fine));
    }
    String epoch = ok(Addresses.STORE_HISTORY, q).getString("epoch");
    JsonObject past = new JsonObject().put("offset", StoreJson.MAX_OFFSET + 1).put("epoch", epoch);
    assertTrue(error(Addresses.STORE_HISTORY, q.copy().put("since", past), ErrorCode.BAD_REQUEST).getMessage()
        .contains("since.offset"));
    error(Addresses.STORE_HISTORY, q.copy().put("since", past.copy().put("offset", Long.MAX_VALUE)), ErrorCode.BAD_REQUEST);
    // at the bound the position is legal, only ahead of this channel
    error(Addresses.STORE_HISTORY, q.copy().put("since", past.copy().put("offset", StoreJson.MAX_OFFSET)),
        ErrorCode.UNRECOVERABLE_POSITION);
    error(Addresses.STORE_HISTORY, q.copy().put("since", past.copy().put("offset", StoreJson.MAX_OFFSET)).put("reverse", true),
        ErrorCode.UNRECOVERABLE_POSITION);
    JsonArray recover = new JsonArray().add(new JsonObject().put("channel", ch).put("recover", past));
    JsonObject entry = ok(Addresses.STORE_POSITION, new JsonObject().put("channels", recover)).getJsonArray("channels").getJsonObject(0);
    assertEquals("bad_request", entry.getJsonObject("error").getString("code"));
    error(Addresses.STORE_HISTORY, "not an object", ErrorCode.BAD_REQUEST);
    error(Addresses.STORE_PENDING, new JsonObject().put("channel", ch).put("subject", "u1").put("since", past), ErrorCode.BAD_REQUEST);
  }

  @Test
  @DisplayName("history over the bus: pages within maxHistoryBytes say more and next; following next reads everything")
  void historyPages() {
    String ch = channel();
    List<Long> stored = new ArrayList<>();
    for (int i = 0; i < 12; i++) stored.add(publish(ch, "x".repeat(100), false).getLong("offset"));
    for (boolean reverse : new boolean[] {false, true}) {
      List<Long> seen = new ArrayList<>();
      JsonObject q = new JsonObject().put("channel", ch).put("reverse", reverse);
      int pages = 0;
      while (true) {
        JsonObject page = ok(Addresses.STORE_HISTORY, q);
        JsonArray pubs = page.getJsonArray("publications");
        assertTrue(size(pubs) <= MAX_BYTES, "page of " + size(pubs) + " bytes");
        for (int i = 0; i < pubs.size(); i++) seen.add(pubs.getJsonObject(i).getLong("offset"));
        pages++;
        if (!page.getBoolean("more", false)) {
          assertNull(page.getValue("next"));
          break;
        }
        JsonObject next = page.getJsonObject("next");
        assertEquals(seen.get(seen.size() - 1), next.getLong("offset"), "next is the last publication's position");
        assertEquals(page.getString("epoch"), next.getString("epoch"));
        q.put("since", next);
      }
      List<Long> expected = new ArrayList<>(stored);
      if (reverse) java.util.Collections.reverse(expected);
      assertEquals(expected, seen);
      assertTrue(pages >= 3, pages + " pages");
    }
  }

  @Test
  @DisplayName("position: the recovered publications of all channels share one maxHistoryBytes; cut entries say where to go on")
  void positionSharesTheBound() {
    String a = channel();
    String b = channel();
    String epochA = null;
    String epochB = null;
    for (int i = 0; i < 3; i++) epochA = publish(a, "a".repeat(100), false).getString("epoch");
    for (int i = 0; i < 3; i++) epochB = publish(b, "b".repeat(100), false).getString("epoch");
    JsonArray channels = new JsonArray()
        .add(new JsonObject().put("channel", a).put("recover", new JsonObject().put("offset", 0).put("epoch", epochA)))
        .add(new JsonObject().put("channel", b).put("recover", new JsonObject().put("offset", 1).put("epoch", epochB)));
    JsonArray out = ok(Addresses.STORE_POSITION, new JsonObject().put("channels", channels)).getJsonArray("channels");
    JsonObject first = out.getJsonObject(0);
    JsonObject second = out.getJsonObject(1);
    int total = size(first.getJsonArray("publications")) + size(second.getJsonArray("publications"));
    assertTrue(total <= MAX_BYTES, total + " bytes");
    assertEquals(3, first.getJsonArray("publications").size(), "the first channel fits whole");
    assertFalse(first.containsKey("more"));
    assertFalse(first.containsKey("from"), "no internal field leaks");
    assertTrue(second.getBoolean("recovered"));
    assertTrue(second.getBoolean("more"));
    assertEquals(3, second.getLong("offset"), "the head");
    JsonArray kept = second.getJsonArray("publications");
    long resumeAt = kept.isEmpty() ? 1 : kept.getJsonObject(kept.size() - 1).getLong("offset");
    assertEquals(new JsonObject().put("offset", resumeAt).put("epoch", epochB), second.getJsonObject("next"));
    JsonObject rest = ok(Addresses.STORE_HISTORY, new JsonObject().put("channel", b).put("since", second.getJsonObject("next")));
    assertEquals(3, rest.getJsonArray("publications").getJsonObject(rest.getJsonArray("publications").size() - 1).getLong("offset"));
    assertEquals(3 - resumeAt, rest.getJsonArray("publications").size());
  }

  @Test
  @DisplayName("one channel recovering more than the bound gets what fits, more:true and next")
  void recoveryCut() {
    String ch = channel();
    String epoch = null;
    for (int i = 0; i < 10; i++) epoch = publish(ch, "r".repeat(100), false).getString("epoch");
    JsonArray channels = new JsonArray()
        .add(new JsonObject().put("channel", ch).put("recover", new JsonObject().put("offset", 0).put("epoch", epoch)));
    JsonObject entry = ok(Addresses.STORE_POSITION, new JsonObject().put("channels", channels)).getJsonArray("channels").getJsonObject(0);
    JsonArray pubs = entry.getJsonArray("publications");
    assertTrue(size(pubs) <= MAX_BYTES && !pubs.isEmpty() && pubs.size() < 10);
    assertTrue(entry.getBoolean("more"));
    assertEquals(pubs.getJsonObject(pubs.size() - 1).getLong("offset"), entry.getJsonObject("next").getLong("offset"));
    assertFalse(entry.containsKey("from"));
  }

  @Test
  @DisplayName("pending over the bus: bounded, continued with since")
  void pendingPages() {
    String ch = channel();
    for (int i = 0; i < 10; i++) publish(ch, "p".repeat(100), true);
    JsonObject q = new JsonObject().put("channel", ch).put("subject", "u1");
    List<Long> seen = new ArrayList<>();
    while (true) {
      JsonObject page = ok(Addresses.STORE_PENDING, q);
      JsonArray pubs = page.getJsonArray("publications");
      assertTrue(size(pubs) <= MAX_BYTES);
      for (int i = 0; i < pubs.size(); i++) seen.add(pubs.getJsonObject(i).getLong("offset"));
      if (!page.getBoolean("more", false)) break;
      q.put("since", page.getJsonObject("next"));
    }
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L), seen);
  }
}
