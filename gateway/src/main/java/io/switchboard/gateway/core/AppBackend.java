package io.switchboard.gateway.core;

import io.switchboard.common.App;
import io.switchboard.gateway.Claims;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * An application backend the gateway consults for decisions a token cannot carry: the HTTP proxies of a backend
 * that is not on the JVM (see the http package). Each method returns null when that proxy is not configured (for
 * that channel), and the gateway then behaves as without a backend; a failed future carries the typed error the
 * client gets.
 */
public interface AppBackend {
  AppBackend NONE = new AppBackend() {};

  /** Answers an RPC method that no bus handler serves. */
  default Future<Object> rpc(Caller c, App app, String method, JsonObject params) {
    return null;
  }

  /** Validates a client publication before it is stored; the answer is the data to store (possibly rewritten). */
  default Future<Object> publish(Caller c, App app, ChannelOps.PublishCommand cmd) {
    return null;
  }

  /** Decides a subscription the caller's grants do not cover; succeeds when the backend allows it. */
  default Future<Void> subscribe(Caller c, App app, String channel) {
    return null;
  }

  /** Whether a connect proxy is configured (a connect without a token then goes to it). */
  default boolean connects() {
    return false;
  }

  /** An identity for a connection that brought no token (a cookie or session the backend knows). */
  default Future<Claims> connect(Session s) {
    return null;
  }
}
