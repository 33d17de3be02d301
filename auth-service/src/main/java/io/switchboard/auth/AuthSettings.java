package io.switchboard.auth;

import io.switchboard.common.ConfigException;
import io.switchboard.common.Defaults;
import io.vertx.core.json.JsonObject;

/**
 * The part of the configuration the auth-service uses, read once at start. The launcher hands over the whole
 * validated tree; missing sections fall back to {@link Defaults} so a bare deployment (tests, embedders) works too.
 * The checks here are the ones only the auth-service knows (a usable admin key, sane token lifetimes).
 */
record AuthSettings(String host, int port, String adminKey, String issuer, int tokenTtlSeconds,
    int maxTokenTtlSeconds, String privateKeyPem, String publicKeyPem, String keyId, String engine,
    JsonObject redis) {

  static AuthSettings from(JsonObject raw) {
    JsonObject config = raw == null ? new JsonObject() : raw;
    JsonObject defaults = Defaults.tree();
    JsonObject auth = defaults.getJsonObject("auth").mergeIn(config.getJsonObject("auth", new JsonObject()));
    JsonObject redis = defaults.getJsonObject("redis").mergeIn(config.getJsonObject("redis", new JsonObject()));
    String engine = config.getString("engine", defaults.getString("engine"));
    if (!engine.equals("memory") && !engine.equals("redis")) {
      throw new ConfigException("engine", "must be one of memory, redis, got '" + engine + "'");
    }
    String adminKey = config.getString("adminKey", "").trim();
    if (adminKey.isEmpty()) {
      throw new ConfigException("adminKey", "is empty: set SWITCHBOARD_ADMIN_KEY or adminKey in the config file "
          + "(the launcher generates one when unset; a bare AuthVerticle needs it given)");
    }
    int ttl = auth.getInteger("tokenTtlSeconds");
    int max = auth.getInteger("maxTokenTtlSeconds");
    if (max < 1) throw new ConfigException("auth.maxTokenTtlSeconds", "must be at least 1, got " + max);
    if (ttl > max) {
      throw new ConfigException("auth.tokenTtlSeconds", "(" + ttl + ") must not exceed auth.maxTokenTtlSeconds (" + max + ")");
    }
    return new AuthSettings(auth.getString("host"), auth.getInteger("port"), adminKey, auth.getString("issuer"), ttl, max,
        auth.getString("privateKeyPem").trim(), auth.getString("publicKeyPem").trim(), auth.getString("keyId").trim(),
        engine, redis);
  }
}
