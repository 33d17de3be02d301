package io.switchboard.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A stored API key: its policy and the SHA-256 of the full key string — never the key itself, which is shown once
 * at creation. {@code channels} and {@code grants} are templates: {@code {sub}} is filled with {@link #subject} when a
 * token is minted.
 *
 * @param ttl token lifetime in seconds, 0 = the service default (auth.tokenTtlSeconds)
 */
record ApiKey(String id, String keyHash, String subject, String sourceType, int ttl, JsonObject channels,
    JsonArray grants, long createdAt) {

  JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("keyHash", keyHash)
        .put("subject", subject)
        .put("sourceType", sourceType)
        .put("ttl", ttl)
        .put("channels", channels)
        .put("grants", grants)
        .put("createdAt", createdAt);
  }

  static ApiKey fromJson(JsonObject json) {
    return new ApiKey(json.getString("id"), json.getString("keyHash"), json.getString("subject"),
        json.getString("sourceType"), json.getInteger("ttl", 0), json.getJsonObject("channels", new JsonObject()),
        json.getJsonArray("grants", new JsonArray()), json.getLong("createdAt", 0L));
  }
}
