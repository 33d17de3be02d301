package io.switchboard.auth;

import io.switchboard.common.Config;
import io.switchboard.common.ConfigException;
import io.vertx.core.json.JsonObject;

/**
 * The part of the configuration the auth-service uses, read once at start. The whole tree is validated again through
 * {@link Config#of} so a verticle deployed with a partial config still gets every default; the checks here are the
 * ones only the auth-service knows (a usable admin key, sane token lifetimes).
 */
record AuthSettings(String host, int port, String adminKey, String issuer, int tokenTtlSeconds,
    int maxTokenTtlSeconds, String privateKeyPem, String publicKeyPem, String keyId, String engine,
    JsonObject redis) {

  static AuthSettings from(JsonObject raw) {
    JsonObject config = Config.of(raw == null ? new JsonObject() : raw);
    JsonObject auth = config.getJsonObject("auth");
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
        config.getString("engine"), config.getJsonObject("redis"));
  }
}
