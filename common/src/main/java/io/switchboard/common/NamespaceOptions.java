package io.switchboard.common;

import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Options of a channel namespace (architecture.md). Out of the box every namespace keeps 1000 publications for 24 h
 * with presence, join/leave events and recovery on.
 *
 * @param historySize publications kept per channel; 0 = ephemeral: no store round trip, no offsets, at-most-once
 * @param historyTtlSeconds how long a publication stays in history
 * @param publishRatePerSecond publishes per second accepted per channel; 0 = unlimited
 */
public record NamespaceOptions(
    int historySize,
    int historyTtlSeconds,
    boolean presence,
    boolean joinLeave,
    boolean clientPublish,
    boolean recovery,
    int publishRatePerSecond) {

  public static final NamespaceOptions DEFAULT = new NamespaceOptions(1000, 24 * 3600, true, true, true, true, 0);

  public boolean ephemeral() {
    return historySize == 0 || historyTtlSeconds == 0;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("historySize", historySize)
        .put("historyTtlSeconds", historyTtlSeconds)
        .put("presence", presence)
        .put("joinLeave", joinLeave)
        .put("clientPublish", clientPublish)
        .put("recovery", recovery)
        .put("publishRatePerSecond", publishRatePerSecond);
  }

  /**
   * Reads options over {@code base}, validating each key.
   *
   * @param where the config path, for error messages (e.g. {@code channels.namespaces.task})
   */
  public static NamespaceOptions parse(JsonObject json, NamespaceOptions base, String where) {
    JsonObject merged = base.toJson();
    for (Map.Entry<String, Object> e : json) {
      String key = where + "." + e.getKey();
      Object def = merged.getValue(e.getKey());
      if (def == null) throw new ConfigException(key, "unknown key (expected one of " + merged.fieldNames() + ")");
      Object v = e.getValue();
      if (def instanceof Boolean && !(v instanceof Boolean)) throw new ConfigException(key, "must be true or false, got " + v);
      if (def instanceof Integer) {
        if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
          throw new ConfigException(key, "must be a whole number, got " + v);
        }
        if (n.longValue() < 0 || n.longValue() > Integer.MAX_VALUE) throw new ConfigException(key, "must be >= 0, got " + v);
        v = n.intValue();
      }
      merged.put(e.getKey(), v);
    }
    return new NamespaceOptions(
        merged.getInteger("historySize"),
        merged.getInteger("historyTtlSeconds"),
        merged.getBoolean("presence"),
        merged.getBoolean("joinLeave"),
        merged.getBoolean("clientPublish"),
        merged.getBoolean("recovery"),
        merged.getInteger("publishRatePerSecond"));
  }
}
