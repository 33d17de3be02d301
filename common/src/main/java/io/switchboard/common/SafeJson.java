package io.switchboard.common;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The one JSON parser for untrusted input (client frames, HTTP bodies), and the depth check for values that are
 * already parsed (bus requests carrying client data). Every entry point refuses with {@code bad_request} naming what
 * was wrong; nothing else escapes.
 *
 * <p>Why: a 2 KB document nested 1,000 deep parses with Jackson's defaults, but then every walk of it recurses 1,000
 * frames deep — encoding a reply hits Jackson's write-nesting limit, copying or fanning it out can overflow the
 * stack — so one publication could make every later read of its channel fail. Bounding depth where input enters
 * keeps every stored value, and every reply that nests one a few levels deeper, far inside those limits.
 *
 * <p>Depth counts containers: a scalar is 0, {@code {}} and {@code []} are 1, {@code {"a":[1]}} is 2. A whole
 * document (a frame, a body) may nest at most {@link Defaults#MAX_JSON_DEPTH}; a client's value inside one
 * ({@code data}, presence {@code state}, token {@code info}) therefore at most one or two levels less, and services
 * refuse a stored value deeper than {@link Defaults#MAX_JSON_DEPTH} however it arrived ({@link #checkDepth}).
 *
 * <p>Use:
 * <pre>{@code
 * JsonObject frame = SafeJson.parseObject(text);        // String or Buffer; ServiceError bad_request if not
 * Object any = SafeJson.parseValue(buffer);             // any JSON value
 * SafeJson.checkDepth(value, Defaults.MAX_JSON_DEPTH, "publication.data");  // already-parsed values
 * }</pre>
 * The parser produces the same Vert.x types as {@code new JsonObject(text)} (JsonObject, JsonArray, String,
 * Integer/Long/BigInteger, Double, Boolean, null) and refuses trailing content and invalid UTF-8. Thread-safe.
 */
public final class SafeJson {
  private SafeJson() {}

  /** Our own factory: Vert.x's shared one keeps Jackson's default (1,000 deep), which is the problem. */
  private static final JsonFactory FACTORY = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(Defaults.MAX_JSON_DEPTH).build())
      .build();

  /** A JSON object from untrusted text. */
  public static JsonObject parseObject(String text) {
    return object(parseValue(text));
  }

  /** A JSON object from untrusted bytes (UTF-8). */
  public static JsonObject parseObject(Buffer bytes) {
    return object(parseValue(bytes));
  }

  /** Any JSON value from untrusted text. */
  public static Object parseValue(String text) {
    if (text == null) throw ServiceError.badRequest("not valid JSON: nothing was sent");
    try {
      return parse(FACTORY.createParser(text));
    } catch (IOException e) {
      throw invalid(e);
    }
  }

  /** Any JSON value from untrusted bytes (UTF-8). */
  public static Object parseValue(Buffer bytes) {
    if (bytes == null) throw ServiceError.badRequest("not valid JSON: nothing was sent");
    try {
      return parse(FACTORY.createParser(bytes.getBytes()));
    } catch (IOException e) {
      throw invalid(e);
    }
  }

  /**
   * Refuses a value (as parsed by Vert.x: JsonObject, JsonArray, Map, List or a scalar) nested deeper than
   * {@code max}. Walks at most {@code max + 1} levels, so a value of any depth is checked without deep recursion.
   *
   * @param what names the value in the message, e.g. {@code publication.data}
   * @throws ServiceError bad_request naming {@code what} and the limit
   */
  public static void checkDepth(Object value, int max, String what) {
    if (exceeds(value, max)) {
      throw ServiceError.badRequest(what + " nests deeper than " + max + " levels of objects/arrays, the most accepted");
    }
  }

  /** Whether {@code value} nests deeper than {@code max} (see {@link #checkDepth}). */
  public static boolean exceeds(Object value, int max) {
    if (value instanceof JsonObject o) return exceedsMap(o.getMap(), max);
    if (value instanceof JsonArray a) return exceedsList(a.getList(), max);
    if (value instanceof Map<?, ?> m) return exceedsMap(m, max);
    if (value instanceof List<?> l) return exceedsList(l, max);
    return false;
  }

  private static boolean exceedsMap(Map<?, ?> map, int max) {
    if (max < 1) return true;
    for (Object v : map.values()) if (exceeds(v, max - 1)) return true;
    return false;
  }

  private static boolean exceedsList(List<?> list, int max) {
    if (max < 1) return true;
    for (Object v : list) if (exceeds(v, max - 1)) return true;
    return false;
  }

  private static Object parse(JsonParser parser) {
    try {
      return JacksonCodec.fromParser(parser, Object.class); // closes the parser, refuses trailing tokens
    } catch (DecodeException e) {
      throw invalid(e.getCause() != null ? e.getCause() : e);
    }
  }

  private static JsonObject object(Object value) {
    if (value instanceof JsonObject o) return o;
    throw ServiceError.badRequest("expected a JSON object, got " + (value == null ? "null"
        : value instanceof JsonArray ? "an array" : value instanceof String ? "a string" : "a " + value.getClass().getSimpleName().toLowerCase()));
  }

  private static ServiceError invalid(Throwable t) {
    if (t instanceof StreamConstraintsException && t.getMessage() != null && t.getMessage().contains("nesting depth")) {
      return ServiceError.badRequest("JSON nests deeper than " + Defaults.MAX_JSON_DEPTH
          + " levels of objects/arrays, the most accepted");
    }
    String why = t instanceof JsonProcessingException j ? j.getOriginalMessage() : t.getMessage();
    String text = String.valueOf(why);
    return ServiceError.badRequest("not valid JSON: " + (text.length() <= 200 ? text : text.substring(0, 197) + "..."));
  }
}
