package io.switchboard.auth;

import io.switchboard.common.Channels;
import io.switchboard.common.Grants;
import io.switchboard.common.SafeJson;
import io.switchboard.common.ServiceError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;

/**
 * Validation of request bodies. Every failure is {@code bad_request} with a message naming the field (and the entry,
 * for lists), so a caller can fix the request without reading the server log.
 */
final class Fields {
  private Fields() {}

  static final int MAX_SUBJECT = 200;
  static final int MAX_GRANTS = 100;
  static final int MAX_CHANNELS = 100;
  static final int MAX_INFO_BYTES = 4096;
  static final int MAX_TOKEN_ID = 128;

  /**
   * Subjects end up in channel names ({@code user:<id>}, {@code {sub}} in patterns, {@code #a,b} lists), so they use
   * the channel alphabet minus the characters that structure a name: ':' (namespace), ',' and '#' (subject lists).
   */
  private static final Pattern SUBJECT = Pattern.compile("[A-Za-z0-9_\\-=@.;!]{1," + MAX_SUBJECT + "}");
  private static final Pattern SOURCE_TYPE = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
  private static final Pattern CHANNEL_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");

  /**
   * The body as a JSON object; an empty body is {} when {@code emptyAllowed}. Parsed with {@link SafeJson}: nesting
   * deeper than {@link io.switchboard.common.Defaults#MAX_JSON_DEPTH} is {@code bad_request}.
   */
  static JsonObject body(Buffer body, boolean emptyAllowed) {
    if (body == null || body.length() == 0 || body.toString().isBlank()) {
      if (emptyAllowed) return new JsonObject();
      throw ServiceError.badRequest("body must be a JSON object");
    }
    // the depth-bounded parser for untrusted input: not valid JSON / nested too deep are bad_request saying so
    Object value = SafeJson.parseValue(body);
    if (value instanceof JsonObject o) return o;
    throw ServiceError.badRequest("body must be a JSON object");
  }

  static String subject(JsonObject body) {
    Object v = body.getValue("subject");
    if (!(v instanceof String s) || !SUBJECT.matcher(s).matches()) {
      throw ServiceError.badRequest("subject must be a string of 1-" + MAX_SUBJECT + " characters of [A-Za-z0-9_-=@.;!]");
    }
    return s;
  }

  static String sourceType(JsonObject body, String fallback) {
    Object v = body.getValue("sourceType");
    if (v == null) return fallback;
    if (!(v instanceof String s) || !SOURCE_TYPE.matcher(s).matches()) {
      throw ServiceError.badRequest("sourceType must be a string of 1-64 characters of [A-Za-z0-9_.-] (e.g. user, agent)");
    }
    return s;
  }

  /** ttl in seconds, 1..max; {@code fallback} when absent. */
  static int ttl(JsonObject body, int fallback, int max) {
    Object v = body.getValue("ttl");
    if (v == null) return fallback;
    if ((v instanceof Integer || v instanceof Long) && ((Number) v).longValue() >= 1 && ((Number) v).longValue() <= max) {
      return ((Number) v).intValue();
    }
    throw ServiceError.badRequest("ttl must be a whole number of seconds between 1 and " + max + ", got " + v);
  }

  static JsonObject info(JsonObject body) {
    Object v = body.getValue("info");
    if (v == null) return null;
    if (!(v instanceof JsonObject o)) throw ServiceError.badRequest("info must be a JSON object");
    int size = o.toBuffer().length();
    if (size > MAX_INFO_BYTES) {
      throw ServiceError.badRequest("info is " + size + " bytes of JSON; at most " + MAX_INFO_BYTES + " allowed");
    }
    return o;
  }

  /** The grants (required, may be empty) with {@code {sub}} filled in, validated after filling. */
  static Grants grants(JsonObject body, String subject) {
    Object v = body.getValue("grants");
    if (v == null) throw ServiceError.badRequest("grants is required: an array of {channel, capabilities}");
    if (v instanceof JsonArray a && a.size() > MAX_GRANTS) {
      throw ServiceError.badRequest("grants has " + a.size() + " entries; at most " + MAX_GRANTS + " allowed");
    }
    Grants template = Grants.parse(v, "grants");
    return Grants.parse(template.withSubject(subject).toJson(), "grants");
  }

  /** The named channels {name: pattern} (optional), validated with {@code {sub}} filled in. */
  static JsonObject channels(JsonObject body, String subject) {
    Object v = body.getValue("channels");
    if (v == null) return new JsonObject();
    if (!(v instanceof JsonObject map)) throw ServiceError.badRequest("channels must be an object {name: channel pattern}");
    if (map.size() > MAX_CHANNELS) {
      throw ServiceError.badRequest("channels has " + map.size() + " entries; at most " + MAX_CHANNELS + " allowed");
    }
    for (String name : map.fieldNames()) {
      String where = "channels." + name;
      if (!CHANNEL_NAME.matcher(name).matches()) {
        throw ServiceError.badRequest(where + ": a channel's name must be 1-64 characters of [A-Za-z0-9_.-]");
      }
      if (!(map.getValue(name) instanceof String p) || p.isEmpty()) {
        throw ServiceError.badRequest(where + " must be a non-empty channel pattern string");
      }
      String filled = fill(p, subject);
      String plain = filled.endsWith("*") ? filled.substring(0, filled.length() - 1) : filled;
      String why = plain.isEmpty() ? null : Channels.invalidReason(plain);
      if (why != null) throw ServiceError.badRequest(where + ": " + why);
    }
    return map;
  }

  /** A copy of the channel map with {@code {sub}} filled in. */
  static JsonObject fillChannels(JsonObject channels, String subject) {
    JsonObject out = new JsonObject();
    for (String name : channels.fieldNames()) out.put(name, fill(channels.getString(name), subject));
    return out;
  }

  static String fill(String pattern, String subject) {
    return pattern.replace("{sub}", subject);
  }

  static String tokenId(JsonObject body) {
    Object v = body.getValue("tokenId");
    if (!(v instanceof String s) || s.isEmpty() || s.length() > MAX_TOKEN_ID) {
      throw ServiceError.badRequest("tokenId must be a string of 1-" + MAX_TOKEN_ID + " characters (the token's jti)");
    }
    return s;
  }

  /** An optional whole number (epoch seconds), or null when absent. */
  static Long epochSeconds(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) return null;
    if (v instanceof Integer || v instanceof Long) return ((Number) v).longValue();
    throw ServiceError.badRequest(field + " must be a whole number of epoch seconds, got " + v);
  }
}
