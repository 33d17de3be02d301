package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Every kind of bad input gets the contract's error naming what was wrong; the connection survives it, nothing is
 * stored, and only repeated violations close the socket.
 */
class BadInputTest {
  private final TestServer s = SharedServer.get();

  private WsClient client() {
    return s.connect(s.token("bad-" + System.nanoTime(), TestServer.allGrants()));
  }

  /** The connection still works: a ping gets its pong. */
  private static void assertAlive(WsClient c) {
    int before = c.seen(f -> "pong".equals(f.getString("type"))).size();
    c.send(new JsonObject().put("type", "ping"));
    c.take("pong", f -> "pong".equals(f.getString("type")));
    assertTrue(c.isOpen());
    assertTrue(c.seen(f -> "pong".equals(f.getString("type"))).size() > before);
  }

  private static JsonObject errorFrame(WsClient c) {
    return c.take("error frame", f -> "error".equals(f.getString("type")) || f.containsKey("error"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "not JSON                 | {oops                                                                  | not valid JSON",
      "JSON but not an object   | [1,2,3]                                                                | JSON object",
      "no type                  | {\"id\":\"1\"}                                                         | type is required",
      "type of the wrong type   | {\"type\":5,\"id\":\"1\"}                                              | type must be a string",
      "unknown type             | {\"type\":\"frobnicate\",\"id\":\"1\"}                                 | unknown type 'frobnicate'",
      "id of the wrong type     | {\"type\":\"request\",\"id\":7,\"method\":\"presence\"}                | id must be a string",
      "request without id       | {\"type\":\"request\",\"method\":\"presence\"}                         | id is required",
      "request without method   | {\"type\":\"request\",\"id\":\"1\"}                                    | method",
      "params not an object     | {\"type\":\"request\",\"id\":\"1\",\"method\":\"publish\",\"params\":\"x\"} | params must be an object",
      "publish without channel  | {\"type\":\"request\",\"id\":\"1\",\"method\":\"publish\",\"params\":{\"event\":\"e\"}} | channel is required",
      "channel of wrong type    | {\"type\":\"request\",\"id\":\"1\",\"method\":\"publish\",\"params\":{\"channel\":5,\"event\":\"e\"}} | channel must be a string",
      "invalid channel name     | {\"type\":\"request\",\"id\":\"1\",\"method\":\"publish\",\"params\":{\"channel\":\"task:a b\",\"event\":\"e\"}} | character not in",
      "ttl of wrong type        | {\"type\":\"request\",\"id\":\"1\",\"method\":\"publish\",\"params\":{\"channel\":\"task:b1\",\"event\":\"e\",\"ttl\":\"long\"}} | ttl must be a whole number",
      "bad priority             | {\"type\":\"request\",\"id\":\"1\",\"method\":\"publish\",\"params\":{\"channel\":\"task:b1\",\"event\":\"e\",\"priority\":\"asap\"}} | priority must be one of",
      "tags not strings         | {\"type\":\"request\",\"id\":\"1\",\"method\":\"publish\",\"params\":{\"channel\":\"task:b1\",\"event\":\"e\",\"tags\":[1]}} | tags must be an array of strings",
      "subscribe channels wrong | {\"type\":\"subscribe\",\"id\":\"1\",\"channels\":\"task:1\"}            | channels must be a non-empty array",
      "connect twice            | {\"type\":\"request\",\"id\":\"1\",\"method\":\"connect\",\"params\":{\"token\":\"x\"}} | already connected",
  })
  void badFrameGetsANamedErrorAndTheConnectionSurvives(String name, String frame, String expected) {
    try (WsClient c = client()) {
      c.sendText(frame);
      JsonObject e = errorFrame(c);
      JsonObject err = e.getJsonObject("error");
      assertEquals("bad_request", err.getString("code"), e.encode());
      assertTrue(err.getString("message").contains(expected), "message '" + err.getString("message") + "' should contain '" + expected + "'");
      assertAlive(c);
    }
  }

  @Test
  void unknownNamespaceIsUnknownChannelAndNothingIsStored() {
    try (WsClient c = client()) {
      JsonObject r = c.request("publish", new JsonObject().put("channel", "nope:1").put("event", "e").put("data", 1));
      assertEquals("unknown_channel", r.getJsonObject("error").getString("code"));
      // nothing stored by any failed publish on task:b1 above or here
      JsonObject h = c.result("history", new JsonObject().put("channel", "task:b1"));
      assertEquals(0L, h.getLong("offset"));
      assertTrue(h.getJsonArray("publications").isEmpty());
    }
  }

  @Test
  void binaryFrameIsRefused() {
    try (WsClient c = client()) {
      s.on.await(() -> c.socket.writeBinaryMessage(Buffer.buffer("{\"type\":\"ping\"}")));
      assertTrue(errorFrame(c).getJsonObject("error").getString("message").contains("binary"));
      assertAlive(c);
    }
  }

  @Test
  void requestBeforeConnectIsRefused() {
    try (WsClient c = s.open(null)) {
      JsonObject r = c.request("publish", new JsonObject().put("channel", "task:x").put("event", "e"));
      assertEquals("unauthorized", r.getJsonObject("error").getString("code"));
      assertTrue(c.isOpen());
    }
  }

  @Test
  void invalidTokenClosesWith4001() {
    try (WsClient c = s.open(null)) {
      JsonObject r = c.request("connect", new JsonObject().put("token", "not.a.jwt"));
      assertEquals("unauthorized", r.getJsonObject("error").getString("code"));
      JsonObject d = c.take("disconnect", f -> "disconnect".equals(f.getString("type")));
      assertEquals(4001, d.getInteger("code"));
      assertEquals(4001, c.awaitClose());
    }
  }

  @Test
  void frameAtTheLimitIsReadAndOneByteOverClosesWith1009() {
    int limit = 64 * 1024;
    try (WsClient c = client()) {
      String prefix = "{\"type\":\"ping\",\"pad\":\"";
      String atLimit = prefix + "x".repeat(limit - prefix.length() - 2) + "\"}";
      assertEquals(limit, atLimit.length());
      c.sendText(atLimit);
      c.take("pong", f -> "pong".equals(f.getString("type")));
      String over = prefix + "x".repeat(limit - prefix.length() - 1) + "\"}";
      c.sendText(over);
      JsonObject d = c.take("disconnect", f -> "disconnect".equals(f.getString("type")));
      assertEquals(1009, d.getInteger("code"));
      assertEquals(1009, c.awaitClose());
    }
  }

  @Test
  void repeatedViolationsClose4002ButFewerDoNot() {
    try (WsClient c = client()) {
      for (int i = 0; i < 9; i++) c.sendText("{oops");
      Await.until("9 errors", () -> c.seen(f -> "error".equals(f.getString("type"))).size() == 9);
      assertAlive(c);
      c.sendText("{oops");
      JsonObject d = c.take("disconnect", f -> "disconnect".equals(f.getString("type")), Duration.ofSeconds(10));
      assertEquals(4002, d.getInteger("code"));
      assertEquals(4002, c.awaitClose());
      assertNull(d.getValue("reconnectAfter"));
    }
  }
}
