package io.switchboard.gateway.core;

import io.switchboard.common.Channels;
import io.switchboard.common.ServiceError;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed reads of request params. Every failure is a {@code bad_request} whose message names the field and what it
 * should have been, so a client developer can fix the call from the error alone.
 */
public final class Params {
  private Params() {}

  public static String string(JsonObject p, String field, boolean required, int maxLength) {
    Object v = p.getValue(field);
    if (v == null) {
      if (required) throw ServiceError.badRequest(field + " is required");
      return null;
    }
    if (!(v instanceof String s)) throw ServiceError.badRequest(field + " must be a string");
    if (required && s.isEmpty()) throw ServiceError.badRequest(field + " must not be empty");
    if (s.length() > maxLength) throw ServiceError.badRequest(field + " is longer than " + maxLength + " characters");
    return s;
  }

  /** A required, valid channel name. */
  public static String channel(JsonObject p) {
    return checkChannel(string(p, "channel", true, Integer.MAX_VALUE));
  }

  public static String checkChannel(String channel) {
    String why = Channels.invalidReason(channel);
    if (why != null) throw ServiceError.badRequest(why);
    return channel;
  }

  public static long integer(JsonObject p, String field, long def, long min, long max) {
    Object v = p.getValue(field);
    if (v == null) return def;
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw ServiceError.badRequest(field + " must be a whole number");
    }
    long l = n.longValue();
    if (l < min || l > max) throw ServiceError.badRequest(field + " must be between " + min + " and " + max);
    return l;
  }

  public static boolean bool(JsonObject p, String field, boolean def) {
    Object v = p.getValue(field);
    if (v == null) return def;
    if (!(v instanceof Boolean b)) throw ServiceError.badRequest(field + " must be true or false");
    return b;
  }

  public static JsonObject object(JsonObject p, String field, boolean required) {
    Object v = p.getValue(field);
    if (v == null) {
      if (required) throw ServiceError.badRequest(field + " is required");
      return null;
    }
    if (!(v instanceof JsonObject o)) throw ServiceError.badRequest(field + " must be an object");
    return o;
  }

  /** An optional array of strings, each at most {@code maxLength} chars, at most {@code maxItems} of them. */
  public static List<String> strings(JsonObject p, String field, int maxItems, int maxLength) {
    Object v = p.getValue(field);
    if (v == null) return null;
    if (!(v instanceof JsonArray a)) throw ServiceError.badRequest(field + " must be an array of strings");
    if (a.size() > maxItems) throw ServiceError.badRequest(field + " has more than " + maxItems + " items");
    List<String> out = new ArrayList<>(a.size());
    for (Object o : a) {
      if (!(o instanceof String s)) throw ServiceError.badRequest(field + " must be an array of strings");
      if (s.length() > maxLength) throw ServiceError.badRequest(field + " has an item longer than " + maxLength + " characters");
      out.add(s);
    }
    return out;
  }
}
