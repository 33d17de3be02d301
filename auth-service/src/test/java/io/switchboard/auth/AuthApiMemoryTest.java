package io.switchboard.auth;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

class AuthApiMemoryTest extends AuthApiContract {
  @Override
  AuthHarness deploy(Vertx vertx) {
    return AuthHarness.memory(vertx);
  }

  @Override
  JsonObject storedKeyRecord(String id) {
    return vertx.sharedData().<String, JsonObject>getLocalMap("switchboard.auth.keys").get(id);
  }
}
