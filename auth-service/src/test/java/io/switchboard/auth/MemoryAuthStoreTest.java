package io.switchboard.auth;

import io.vertx.core.Vertx;

class MemoryAuthStoreTest extends AuthStoreContract {
  @Override
  AuthStore newStore(Vertx vertx, long subjectRetentionSeconds) {
    return new MemoryAuthStore(vertx, subjectRetentionSeconds);
  }
}
