package io.switchboard.common;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Loads the configuration: {@link Defaults}, then a JSON or YAML file, then environment variables — each layer
 * overriding the one before (12-factor). Every leaf key {@code a.bKey} can be set by {@code SWITCHBOARD_A_B_KEY};
 * an object-valued key (e.g. {@code channels.namespaces}) takes JSON. The result is validated: an unknown key, a
 * value of the wrong type or out of range throws {@link ConfigException} naming the key.
 */
public final class Config {
  private Config() {}

  public static final String ENV_PREFIX = "SWITCHBOARD_";

  /** Keys whose value is a free-form map checked elsewhere (namespace names are the user's). */
  private static final Set<String> FREE_FORM = Set.of("channels.namespaces");

  public static JsonObject load(Path file, Map<String, String> env) {
    JsonObject config = Defaults.tree();
    if (file != null) merge(config, readFile(file), "");
    applyEnv(config, "", env);
    validate(config);
    return config;
  }

  /** Defaults overridden by {@code overrides} (tests and embedders), validated. */
  public static JsonObject of(JsonObject overrides) {
    JsonObject config = Defaults.tree();
    merge(config, overrides, "");
    validate(config);
    return config;
  }

  static JsonObject readFile(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ConfigException("--config", "cannot read " + file + ": " + e.getMessage());
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    try {
      if (name.endsWith(".yaml") || name.endsWith(".yml")) {
        Object tree = new ObjectMapper(new YAMLFactory()).readValue(text, Object.class);
        if (tree == null) return new JsonObject();
        if (!(tree instanceof Map<?, ?> m)) throw new ConfigException("--config", file + " must hold a mapping at the top");
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) m;
        return new JsonObject(map).copy();
      }
      return new JsonObject(text);
    } catch (IOException | DecodeException e) {
      throw new ConfigException("--config", file + " is not valid " + (name.endsWith("json") ? "JSON" : "YAML/JSON")
          + ": " + e.getMessage());
    }
  }

  /** Deep-merges {@code src} into {@code dst}; unknown keys are kept so {@link #validate} can name them. */
  static void merge(JsonObject dst, JsonObject src, String path) {
    for (Map.Entry<String, Object> e : src) {
      String key = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      Object cur = dst.getValue(e.getKey());
      Object val = e.getValue();
      if (cur instanceof JsonObject c && val instanceof JsonObject v && !FREE_FORM.contains(key)) {
        merge(c, v, key);
      } else {
        dst.put(e.getKey(), val);
      }
    }
  }

  private static void applyEnv(JsonObject config, String path, Map<String, String> env) {
    for (String field : config.fieldNames()) {
      String key = path.isEmpty() ? field : path + "." + field;
      Object cur = config.getValue(field);
      if (cur instanceof JsonObject obj && !FREE_FORM.contains(key)) {
        applyEnv(obj, key, env);
        continue;
      }
      String raw = env.get(envName(key));
      if (raw == null) continue;
      config.put(field, parseEnv(key, raw, cur));
    }
  }

  /** {@code gateway.maxQueueBytes} → {@code SWITCHBOARD_GATEWAY_MAX_QUEUE_BYTES}. */
  public static String envName(String key) {
    StringBuilder b = new StringBuilder(ENV_PREFIX);
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c == '.') b.append('_');
      else if (Character.isUpperCase(c)) b.append('_').append(c);
      else b.append(Character.toUpperCase(c));
    }
    return b.toString();
  }

  private static Object parseEnv(String key, String raw, Object def) {
    String where = key + " (from " + envName(key) + ")";
    if (def instanceof Integer || def instanceof Long) {
      try {
        return Long.parseLong(raw.trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(where, "must be a whole number, got '" + raw + "'");
      }
    }
    if (def instanceof Boolean) {
      String v = raw.trim().toLowerCase(Locale.ROOT);
      if (v.equals("true") || v.equals("false")) return Boolean.parseBoolean(v);
      throw new ConfigException(where, "must be true or false, got '" + raw + "'");
    }
    if (def instanceof JsonObject) {
      try {
        return new JsonObject(raw);
      } catch (DecodeException e) {
        throw new ConfigException(where, "must be a JSON object: " + e.getMessage());
      }
    }
    if (def instanceof io.vertx.core.json.JsonArray) {
      try {
        return new io.vertx.core.json.JsonArray(raw);
      } catch (DecodeException | ClassCastException e) {
        throw new ConfigException(where, "must be a JSON array: " + e.getMessage());
      }
    }
    return raw;
  }

  /** Checks every key against the defaults' types, then the ranges and the namespace options. */
  public static void validate(JsonObject config) {
    checkTypes(config, Defaults.tree(), "");
    requireOneOf(config, "engine", "memory", "redis");
    requireOneOf(config, "logging.format", "text", "json");
    for (String port : new String[] {"gateway.port", "auth.port", "operations.port"}) range(config, port, 0, 65535);
    range(config, "gateway.maxFrameBytes", 256, 16 * 1024 * 1024);
    range(config, "gateway.maxQueueBytes", 1024, Integer.MAX_VALUE);
    range(config, "gateway.connectTimeoutMs", 10, Integer.MAX_VALUE);
    range(config, "gateway.tailCheckMs", 1_000, 3_600_000);
    range(config, "gateway.pingIntervalMs", 10, Integer.MAX_VALUE);
    range(config, "gateway.pongTimeoutMs", 10, Integer.MAX_VALUE);
    range(config, "gateway.maxSubscriptions", 1, 1_000_000);
    range(config, "gateway.publishRatePerSecond", 1, Integer.MAX_VALUE);
    range(config, "gateway.publishBurst", 1, Integer.MAX_VALUE);
    range(config, "gateway.violationLimit", 1, Integer.MAX_VALUE);
    range(config, "gateway.requestTimeoutMs", 10, Integer.MAX_VALUE);
    range(config, "gateway.pubnubPresenceIntervalSeconds", 0, 3600);
    range(config, "auth.tokenTtlSeconds", 1, Integer.MAX_VALUE);
    range(config, "presence.timeoutSeconds", 1, Integer.MAX_VALUE);
    range(config, "presence.sweepIntervalMs", 10, Integer.MAX_VALUE);
    range(config, "store.idempotencyWindowSeconds", 1, Integer.MAX_VALUE);
    range(config, "store.maxHistoryBytes", 1024, Integer.MAX_VALUE);
    range(config, "webhooks.holdMs", 0, 60_000);
    range(config, "webhooks.retryForSeconds", 0, 7 * 24 * 3600);
    range(config, "webhooks.backoffMs", 10, Integer.MAX_VALUE);
    range(config, "webhooks.maxBackoffMs", 10, Integer.MAX_VALUE);
    range(config, "webhooks.maxBatch", 1, 10_000);
    range(config, "webhooks.pollMs", 10, 60_000);
    range(config, "webhooks.timeoutMs", 100, Integer.MAX_VALUE);
    range(config, "redis.poolSize", 1, 10_000);
    range(config, "cluster.port", 1, 65535);
    range(config, "cluster.eventBusPort", 0, 65535);
    // at 8 s (Hazelcast's heartbeat timeout, ClusterSetup) the paused member has been dropped before it notices
    range(config, "cluster.fenceAfterPauseMs", 1_000, 7_000);
    range(config, "cluster.fenceMaxMs", 1_000, 3_600_000);
    Namespaces.fromConfig(config.getJsonObject("channels"));
    App.parseAll(config.getJsonArray("apps"));
  }

  private static void checkTypes(JsonObject config, JsonObject defaults, String path) {
    for (Map.Entry<String, Object> e : config) {
      String key = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      if (!defaults.containsKey(e.getKey())) {
        throw new ConfigException(key, "is not a known setting (known here: " + defaults.fieldNames() + ")");
      }
      Object def = defaults.getValue(e.getKey());
      Object v = e.getValue();
      if (def instanceof JsonObject d) {
        if (!(v instanceof JsonObject o)) throw new ConfigException(key, "must be an object, got " + v);
        if (!FREE_FORM.contains(key)) checkTypes(o, d, key);
      } else if (def instanceof Integer || def instanceof Long) {
        if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
          throw new ConfigException(key, "must be a whole number, got " + describe(v));
        }
        if (def instanceof Integer && (n.longValue() > Integer.MAX_VALUE || n.longValue() < Integer.MIN_VALUE)) {
          throw new ConfigException(key, "is out of range: " + v);
        }
        config.put(e.getKey(), def instanceof Integer ? (Object) n.intValue() : (Object) n.longValue());
      } else if (def instanceof io.vertx.core.json.JsonArray) {
        if (!(v instanceof io.vertx.core.json.JsonArray)) throw new ConfigException(key, "must be a list, got " + describe(v));
      } else if (def instanceof Boolean) {
        if (!(v instanceof Boolean)) throw new ConfigException(key, "must be true or false, got " + describe(v));
      } else if (def instanceof String) {
        if (!(v instanceof String)) throw new ConfigException(key, "must be a string, got " + describe(v));
      }
    }
  }

  private static String describe(Object v) {
    return v instanceof String s ? "'" + s + "'" : String.valueOf(v);
  }

  private static void requireOneOf(JsonObject config, String key, String... allowed) {
    Object v = get(config, key);
    for (String a : allowed) if (a.equals(v)) return;
    throw new ConfigException(key, "must be one of " + String.join(", ", allowed) + ", got " + describe(v));
  }

  private static void range(JsonObject config, String key, long min, long max) {
    Object v = get(config, key);
    long n = ((Number) v).longValue();
    if (n < min || n > max) throw new ConfigException(key, "must be between " + min + " and " + max + ", got " + n);
  }

  /** Reads a dotted key. */
  public static Object get(JsonObject config, String dotted) {
    JsonObject cur = config;
    String[] parts = dotted.split("\\.");
    for (int i = 0; i < parts.length - 1; i++) cur = cur.getJsonObject(parts[i]);
    return cur.getValue(parts[parts.length - 1]);
  }
}
