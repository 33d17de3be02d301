package io.switchboard.gateway.transport;

import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.ext.web.Router;

/**
 * Where clients come in on the gateway port: a dialect's WebSocket path and/or its HTTP routes. Each event loop's
 * gateway asks its endpoints in order; the first that claims a handshake owns it.
 */
public interface Endpoint {
  /** Claims a WebSocket upgrade by its path (accepting or rejecting it); false when it is not this endpoint's. */
  default boolean handshake(ServerWebSocketHandshake h) {
    return false;
  }

  /** Adds this endpoint's HTTP routes. */
  default void routes(Router router) {}
}
