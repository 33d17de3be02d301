package io.switchboard.store;

import io.vertx.core.json.JsonArray;

/**
 * Redis key names. Every key of a channel starts with {@code sb:{<channel>}:} — the hash tag puts them all in one
 * Redis Cluster slot so one Lua script may touch them together (channel names cannot contain braces).
 */
final class RedisKeys {
  private RedisKeys() {}

  static final String PREFIX = "sb:";

  private static String base(String channel) {
    return PREFIX + "{" + channel + "}:";
  }

  /** String {@code <epoch>:<last offset>:<trimAt>:<lastAck>} (see append.lua); expires with the history. */
  static String meta(String channel) {
    return base(channel) + "m";
  }

  /** Stream of the history; entry id {@code <offset>-0}. */
  static String history(String channel) {
    return base(channel) + "h";
  }

  /** Sorted set of ids requiring an ack, scored by offset; trimmed with the history. */
  static String ackable(String channel) {
    return base(channel) + "r";
  }

  /** Publications counted in the current one-second rate window. */
  static String rate(String channel) {
    return base(channel) + "q";
  }

  /** The first result of an idempotency key; scope = channel + source + key (JSON-encoded: unambiguous). */
  static String idempotency(String channel, String sourceType, String sourceId, String key) {
    return base(channel) + "i:" + new JsonArray().add(sourceType).add(sourceId).add(key).encode();
  }

  /** Set of ids a subject acked. */
  static String acks(String channel, String subject) {
    return base(channel) + "a:" + subject;
  }
}
