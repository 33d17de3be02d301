package io.switchboard.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SafeJsonTest {
  static final int MAX = Defaults.MAX_JSON_DEPTH;

  /** {@code {"a":{"a":…1…}}} with {@code depth} objects. */
  static String nestedObjects(int depth) {
    return "{\"a\":".repeat(depth - 1) + "{\"a\":1}" + "}".repeat(depth - 1);
  }

  static String nestedArrays(int depth) {
    return "[".repeat(depth) + "]".repeat(depth);
  }

  /** A value nested {@code depth} arrays deep, built without recursion. */
  static JsonArray deepValue(int depth) {
    JsonArray root = new JsonArray();
    JsonArray cur = root;
    for (int i = 1; i < depth; i++) {
      JsonArray next = new JsonArray();
      cur.add(next);
      cur = next;
    }
    return root;
  }

  static ServiceError refused(Runnable r) {
    ServiceError e = assertThrows(ServiceError.class, r::run);
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    return e;
  }

  @Test
  @DisplayName("documents nested exactly to the limit parse; one level more is bad_request naming the limit")
  void depthAtAndPastTheLimit() {
    JsonObject ok = SafeJson.parseObject(nestedObjects(MAX));
    assertFalse(SafeJson.exceeds(ok, MAX));
    assertTrue(SafeJson.exceeds(ok, MAX - 1));
    assertFalse(SafeJson.exceeds(SafeJson.parseValue(nestedArrays(MAX)), MAX));
    assertInstanceOf(JsonArray.class, SafeJson.parseValue(Buffer.buffer(nestedArrays(MAX))));

    for (String deep : new String[] {nestedObjects(MAX + 1), nestedArrays(MAX + 1)}) {
      ServiceError e = refused(() -> SafeJson.parseValue(deep));
      assertTrue(e.getMessage().contains("deeper than " + MAX), e.getMessage());
      refused(() -> SafeJson.parseValue(Buffer.buffer(deep)));
    }
  }

  @Test
  @DisplayName("a 2 KB frame nested 1,000 deep and a 200 KB one nested 100,000 deep are refused, no stack overflow")
  void attackDepths() {
    String frame = "{\"type\":\"publish\",\"channel\":\"a\",\"data\":" + nestedArrays(1000) + "}";
    assertTrue(refused(() -> SafeJson.parseObject(frame)).getMessage().contains("deeper than " + MAX));
    refused(() -> SafeJson.parseObject(Buffer.buffer(nestedArrays(100_000))));
  }

  @Test
  @DisplayName("malformed input is bad_request saying why: syntax, trailing content, invalid UTF-8, empty, not an object")
  void malformed() {
    assertTrue(refused(() -> SafeJson.parseObject("{\"a\":")).getMessage().startsWith("not valid JSON"));
    assertTrue(refused(() -> SafeJson.parseObject("{\"a\":1} x")).getMessage().startsWith("not valid JSON"));
    assertTrue(refused(() -> SafeJson.parseObject("{} {}")).getMessage().startsWith("not valid JSON"));
    byte[] badUtf8 = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    assertTrue(refused(() -> SafeJson.parseObject(Buffer.buffer(badUtf8))).getMessage().startsWith("not valid JSON"));
    refused(() -> SafeJson.parseObject(""));
    refused(() -> SafeJson.parseObject((String) null));
    assertTrue(refused(() -> SafeJson.parseObject("[1]")).getMessage().contains("an array"));
    assertTrue(refused(() -> SafeJson.parseObject("\"s\"")).getMessage().contains("a string"));
    assertTrue(refused(() -> SafeJson.parseObject("null")).getMessage().contains("null"));
  }

  @Test
  @DisplayName("parsed values are Vert.x's own types, as new JsonObject(text) gives")
  void sameTypesAsVertx() {
    String text = "{\"o\":{\"x\":[1,2.5,\"s\",true,null]},\"big\":123456789012345678901234,\"l\":5000000000,\"u\":\"\u00e9\"}";
    JsonObject safe = SafeJson.parseObject(text);
    assertEquals(new JsonObject(text), safe);
    assertInstanceOf(JsonObject.class, safe.getValue("o"));
    assertInstanceOf(JsonArray.class, safe.getJsonObject("o").getValue("x"));
    assertInstanceOf(BigInteger.class, safe.getValue("big"));
    assertInstanceOf(Long.class, safe.getValue("l"));
    assertEquals(safe, SafeJson.parseObject(Buffer.buffer(text)));
  }

  @Test
  @DisplayName("checkDepth: at the limit passes, past it is bad_request naming the value; any depth is walked safely")
  void checkDepth() {
    SafeJson.checkDepth(deepValue(MAX), MAX, "data");
    SafeJson.checkDepth("scalar", 0, "data");
    SafeJson.checkDepth(null, 0, "data");
    ServiceError e = refused(() -> SafeJson.checkDepth(deepValue(MAX + 1), MAX, "publication.data"));
    assertEquals("publication.data nests deeper than " + MAX + " levels of objects/arrays, the most accepted", e.getMessage());
    refused(() -> SafeJson.checkDepth(deepValue(200_000), MAX, "data"));
    // raw maps and lists inside a JsonObject count too
    List<Object> list = new ArrayList<>(List.of(Map.of("k", List.of(1))));
    JsonObject mixed = new JsonObject().put("l", list);
    assertFalse(SafeJson.exceeds(mixed, 4));
    assertTrue(SafeJson.exceeds(mixed, 3));
  }
}
