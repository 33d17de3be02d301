package io.switchboard.presence;

import io.switchboard.common.Channels;
import io.switchboard.common.Defaults;
import io.switchboard.common.SafeJson;
import io.switchboard.common.ServiceError;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** Reads and checks the fields of presence bus messages; anything malformed is a {@code bad_request}. */
final class PresenceRequests {
  private PresenceRequests() {}

  static JsonObject body(Message<Object> msg) {
    if (msg.body() instanceof JsonObject json) return json;
    throw ServiceError.badRequest(msg.address() + " expects a JSON object, got " + describe(msg.body()));
  }

  static String string(JsonObject body, String key) {
    Object v = body.getValue(key);
    if (v instanceof String s && !s.isEmpty()) return s;
    throw ServiceError.badRequest("'" + key + "' must be a non-empty string, got " + describe(v));
  }

  /** An optional string: absent or null gives {@code fallback}. */
  static String string(JsonObject body, String key, String fallback) {
    return body.getValue(key) == null ? fallback : string(body, key);
  }

  /** An optional JSON object: absent or null gives {}. */
  static JsonObject object(JsonObject body, String key) {
    Object v = body.getValue(key);
    if (v == null) return new JsonObject();
    if (v instanceof JsonObject o) return o;
    throw ServiceError.badRequest("'" + key + "' must be a JSON object, got " + describe(v));
  }

  static JsonObject requiredObject(JsonObject body, String key) {
    if (body.getValue(key) instanceof JsonObject o) return o;
    throw ServiceError.badRequest("'" + key + "' must be a JSON object, got " + describe(body.getValue(key)));
  }

  /**
   * A client value kept and relayed to others (a member's {@code info}, its {@code state}): a JSON object nested at
   * most {@link Defaults#MAX_JSON_DEPTH} deep, checked before anything walks it (copy, encode).
   */
  static JsonObject value(JsonObject body, String key, boolean required) {
    Object v = body.getValue(key);
    // depth first: describe() of a hostile value would walk it
    SafeJson.checkDepth(v, Defaults.MAX_JSON_DEPTH, "'" + key + "'");
    return required ? requiredObject(body, key) : object(body, key);
  }

  static String channel(JsonObject body) {
    return validChannel(string(body, "channel"));
  }

  /**
   * The channels of a join or leave: {@code channels:[…]} or a single {@code channel}; null when neither is given.
   * Every name must be valid, or nothing is done.
   */
  static List<String> channels(JsonObject body) {
    if (body.getValue("channels") == null) {
      return body.getValue("channel") == null ? null : List.of(channel(body));
    }
    List<String> names = strings(body, "channels");
    for (String name : names) validChannel(name);
    return names;
  }

  static List<String> strings(JsonObject body, String key) {
    if (!(body.getValue(key) instanceof JsonArray array)) {
      throw ServiceError.badRequest("'" + key + "' must be an array of strings, got " + describe(body.getValue(key)));
    }
    List<String> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof String s) || s.isEmpty()) {
        throw ServiceError.badRequest("'" + key + "[" + i + "]' must be a non-empty string, got " + describe(array.getValue(i)));
      }
      out.add(s);
    }
    return out;
  }

  private static String validChannel(String name) {
    String reason = Channels.invalidScopedReason(name);
    if (reason != null) throw ServiceError.badRequest(reason);
    return name;
  }

  private static String describe(Object v) {
    if (v == null) return "nothing";
    // containers are named, never printed: printing walks (and may choke on) whatever a caller sent
    if (v instanceof JsonObject) return "an object";
    if (v instanceof JsonArray) return "an array";
    String s = v instanceof String str ? "'" + str + "'" : v.toString();
    return Channels.abbreviate(s);
  }
}
