package io.switchboard.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import java.util.HashMap;
import java.util.Map;

/**
 * Engine {@code memory}: one JVM, nothing to set up. State lives in the Vert.x instance's local shared maps, so every
 * auth verticle instance of one JVM sees the same keys and revocations (and a redeploy keeps them), like Redis would.
 * Expired revocations are pruned whenever revocations are written or listed.
 */
final class MemoryAuthStore implements AuthStore {
  private final LocalMap<String, JsonObject> keys;
  private final LocalMap<String, Long> subjects;
  private final LocalMap<String, Long> tokens;
  private final long subjectRetentionSeconds;

  MemoryAuthStore(Vertx vertx, long subjectRetentionSeconds) {
    this.keys = vertx.sharedData().getLocalMap("switchboard.auth.keys");
    this.subjects = vertx.sharedData().getLocalMap("switchboard.auth.revoked.subjects");
    this.tokens = vertx.sharedData().getLocalMap("switchboard.auth.revoked.tokens");
    this.subjectRetentionSeconds = subjectRetentionSeconds;
  }

  @Override
  public Future<Void> putKey(ApiKey key) {
    keys.put(key.id(), key.toJson());
    return Future.succeededFuture();
  }

  @Override
  public Future<ApiKey> key(String id) {
    JsonObject json = keys.get(id);
    return Future.succeededFuture(json == null ? null : ApiKey.fromJson(json));
  }

  @Override
  public Future<Boolean> deleteKey(String id) {
    return Future.succeededFuture(keys.remove(id) != null);
  }

  @Override
  public Future<Void> revokeSubject(String subject, long revokedAt, long now) {
    subjects.merge(subject, revokedAt, Math::max);
    prune(now);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> revokeToken(String jti, long exp, long now) {
    tokens.merge(jti, exp, Math::max);
    prune(now);
    return Future.succeededFuture();
  }

  @Override
  public Future<Long> subjectRevokedAt(String subject, long now) {
    Long at = subjects.get(subject);
    return Future.succeededFuture(at != null && subjectInForce(at, now) ? at : null);
  }

  @Override
  public Future<Revocations> revocations(long now) {
    prune(now);
    Map<String, Long> s = new HashMap<>();
    subjects.forEach((sub, at) -> {
      if (subjectInForce(at, now)) s.put(sub, at);
    });
    Map<String, Long> t = new HashMap<>();
    tokens.forEach((jti, exp) -> {
      if (exp > now) t.put(jti, exp);
    });
    return Future.succeededFuture(new Revocations(s, t));
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }

  private boolean subjectInForce(long revokedAt, long now) {
    return revokedAt + subjectRetentionSeconds > now;
  }

  private void prune(long now) {
    for (String sub : subjects.keySet()) {
      Long at = subjects.get(sub);
      if (at != null && !subjectInForce(at, now)) subjects.remove(sub, at);
    }
    for (String jti : tokens.keySet()) {
      Long exp = tokens.get(jti);
      if (exp != null && exp <= now) tokens.remove(jti, exp);
    }
  }
}
