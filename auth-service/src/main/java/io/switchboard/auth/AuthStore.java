package io.switchboard.auth;

import io.vertx.core.Future;

/**
 * What the auth-service keeps: API keys (by id, holding only a hash of the secret) and revocations. Every method is
 * async; a storage outage fails with {@link io.switchboard.common.ServiceError} {@code unavailable}.
 *
 * <p>Time is passed in ({@code now}, epoch seconds) rather than read from a clock, so that every engine prunes by the
 * same instant and the contract tests can move time without sleeping.
 *
 * <p>Retention invariants:
 * <ul>
 *   <li>a token revocation lives until the token's {@code exp}: after that the token is dead anyway;
 *   <li>a subject revocation lives {@code subjectRetentionSeconds} (= auth.maxTokenTtlSeconds) after it was made:
 *       every token issued at or before it has expired by then.
 * </ul>
 */
interface AuthStore {
  /** Stores a new key (ids are random, never reused). */
  Future<Void> putKey(ApiKey key);

  /** The key with this id, or null when there is none (never created, or deleted). */
  Future<ApiKey> key(String id);

  /** Deletes a key; true when it existed. */
  Future<Boolean> deleteKey(String id);

  /** Every token of {@code subject} issued at or before {@code revokedAt} is revoked; keeps the latest instant. */
  Future<Void> revokeSubject(String subject, long revokedAt, long now);

  /** The token {@code jti} is revoked until {@code exp}. */
  Future<Void> revokeToken(String jti, long exp, long now);

  /** When the subject was last revoked (epoch seconds), or null when no revocation of it is still in force. */
  Future<Long> subjectRevokedAt(String subject, long now);

  /** Every revocation still in force at {@code now}. */
  Future<Revocations> revocations(long now);

  Future<Void> close();
}
