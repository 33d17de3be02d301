package io.switchboard.gateway;

import io.switchboard.common.Channels;
import io.switchboard.common.CloseCode;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Native protocol v1 for one connection: reads frames, validates them, and dispatches requests. Bad input gets an
 * error naming what was wrong and the connection stays; only repeated violations close it (4002).
 */
final class NativeSession {
  final GatewayVerticle gw;
  final ClientConnection c;
  private final SubscribeFlow subscriptions;
  private final ChannelRequests requests;

  NativeSession(GatewayVerticle gw, ClientConnection c) {
    this.gw = gw;
    this.c = c;
    this.subscriptions = new SubscribeFlow(this);
    this.requests = new ChannelRequests(this);
  }

  void start(String authorization) {
    c.socket.textMessageHandler(this::onText);
    c.socket.binaryMessageHandler(b -> badFrame(null, "binary frames are not supported: send JSON text frames"));
    c.socket.pongHandler(b -> {
      long now = System.currentTimeMillis();
      c.lastSeen = now;
      c.pingSentAt = 0;
      c.nextPingAt = now + gw.cfg.pingIntervalMs();
    });
    c.socket.closeHandler(v -> gw.closed(c));
    c.socket.exceptionHandler(t -> { /* the close handler follows; nothing to add */ });
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      String token = authorization.substring(7).trim();
      if (token.isEmpty()) c.disconnect(CloseCode.INVALID_TOKEN, "empty bearer token");
      else connect(null, new JsonObject().put("token", token));
    }
  }

  // --- frames -------------------------------------------------------------------------------------

  private void onText(String text) {
    long now = System.currentTimeMillis();
    c.lastSeen = now;
    if (c.closing) return;
    int bytes = utf8Length(text);
    if (bytes > gw.cfg.maxFrameBytes()) {
      c.disconnect(CloseCode.TOO_LARGE, "frame of " + bytes + " bytes is over the limit of " + gw.cfg.maxFrameBytes());
      return;
    }
    JsonObject frame;
    try {
      frame = new JsonObject(text);
    } catch (RuntimeException e) { // DecodeException, or a JSON value that is not an object
      badFrame(null, text.trim().startsWith("{") ? "frame is not valid JSON" : "frame must be a JSON object");
      return;
    }
    Object idValue = frame.getValue("id");
    if (idValue != null && !(idValue instanceof String)) {
      badFrame(null, "id must be a string");
      return;
    }
    String id = (String) idValue;
    Object type = frame.getValue("type");
    if (!(type instanceof String t)) {
      badFrame(id, type == null ? "type is required (request, subscribe, unsubscribe or ping)" : "type must be a string");
      return;
    }
    try {
      switch (t) {
        case "ping" -> c.sendEvent(NativeFrames.PONG);
        case "request" -> request(id, frame);
        case "subscribe" -> {
          requireConnected();
          subscriptions.subscribe(requireId(id), frame.getValue("channels"));
        }
        case "unsubscribe" -> {
          requireConnected();
          subscriptions.unsubscribe(requireId(id), frame.getValue("channels"));
        }
        default -> throw ServiceError.badRequest("unknown type '" + Channels.abbreviate(t) + "' (request, subscribe, unsubscribe or ping)");
      }
    } catch (ServiceError e) {
      fail(id, e);
    }
  }

  private void request(String id, JsonObject frame) {
    requireId(id);
    Object m = frame.getValue("method");
    if (!(m instanceof String method) || method.isEmpty()) throw ServiceError.badRequest("method must be a non-empty string");
    Object p = frame.getValue("params");
    if (p != null && !(p instanceof JsonObject)) throw ServiceError.badRequest("params must be an object");
    JsonObject params = p == null ? new JsonObject() : (JsonObject) p;
    if (method.equals("connect")) {
      connect(id, params);
      return;
    }
    requireConnected();
    switch (method) {
      case "refresh" -> refresh(id, params);
      case "publish" -> requests.publish(id, params);
      case "history" -> requests.history(id, params);
      case "presence" -> requests.presence(id, params);
      case "presence.setState" -> requests.setState(id, params);
      case "ack" -> requests.ack(id, params);
      case "pending" -> requests.pending(id, params);
      default -> requests.rpc(id, method, params);
    }
  }

  private static String requireId(String id) {
    if (id == null || id.isEmpty()) throw ServiceError.badRequest("id is required (a string the response will echo)");
    return id;
  }

  private void requireConnected() {
    if (!c.connected) throw new ServiceError(ErrorCode.UNAUTHORIZED, "send connect with a token first");
  }

  // --- connect and refresh ------------------------------------------------------------------------

  private void connect(String id, JsonObject params) {
    if (c.connecting) throw ServiceError.badRequest("connect is already in progress");
    if (c.connected) throw ServiceError.badRequest("already connected; use refresh to replace the token");
    String token = Params.string(params, "token", true, 16 * 1024);
    JsonObject recover = Params.object(params, "recover", false);
    c.connecting = true;
    gw.verifier.verify(token).onComplete(ar -> {
      c.connecting = false;
      if (c.closing) return;
      if (ar.failed()) {
        ServiceError e = ServiceError.from(ar.cause(), "token verification");
        if (id != null) reply(id, e);
        c.disconnect(closeCodeFor(e), e.getMessage());
        return;
      }
      Claims claims = ar.result();
      if (!gw.subjectLimits.acquire(claims.subject())) {
        if (id != null) reply(id, new ServiceError(ErrorCode.LIMIT_EXCEEDED, "too many connections for subject " + claims.subject()));
        c.disconnect(CloseCode.CONNECTION_LIMIT, "connection limit for this subject");
        return;
      }
      c.claims = claims;
      c.connected = true;
      subscriptions.subscribePersonal(recover).onComplete(personal -> {
        JsonObject result = new JsonObject()
            .put("client", c.id)
            .put("subject", claims.subject())
            .put("expiresAt", Instant.ofEpochSecond(claims.exp()).toString())
            .put("pingInterval", gw.cfg.pingIntervalMs() / 1000.0)
            .put("subscriptions", personal.succeeded() ? personal.result().results() : new JsonArray());
        if (id != null) reply(id, result);
        else c.send(new JsonObject().put("type", "connected").put("result", result));
        if (personal.succeeded()) subscriptions.goLive(personal.result());
      });
    });
  }

  private static short closeCodeFor(ServiceError e) {
    return switch (e.code()) {
      case TOKEN_EXPIRED -> CloseCode.TOKEN_EXPIRED;
      case UNAVAILABLE -> CloseCode.GOING_AWAY;
      default -> e.getMessage().contains("revoked") ? CloseCode.FORBIDDEN : CloseCode.INVALID_TOKEN;
    };
  }

  private void refresh(String id, JsonObject params) {
    String token = Params.string(params, "token", true, 16 * 1024);
    gw.verifier.verify(token).onComplete(ar -> {
      if (ar.failed()) {
        reply(id, ServiceError.from(ar.cause(), "token verification"));
        return;
      }
      Claims next = ar.result();
      if (!next.subject().equals(c.subject())) {
        reply(id, new ServiceError(ErrorCode.PERMISSION_DENIED,
            "refresh token is for subject " + next.subject() + ", this connection is " + c.subject()));
        return;
      }
      c.claims = next;
      subscriptions.dropUngranted();
      reply(id, new JsonObject().put("expiresAt", Instant.ofEpochSecond(next.exp()).toString()));
    });
  }

  // --- answers ------------------------------------------------------------------------------------

  void reply(String id, Object result) {
    c.send(NativeFrames.response(id, result));
  }

  void reply(String id, ServiceError e) {
    c.send(NativeFrames.errorResponse(id, e));
  }

  /** Answers a request with the outcome of a bus call (result or typed error). */
  <T> void replyWith(String id, Future<T> f, String what) {
    f.onComplete(ar -> {
      if (ar.succeeded()) reply(id, ar.result());
      else reply(id, ServiceError.from(ar.cause(), what));
    });
  }

  /** A failed request: bad requests count as violations, the rest are ordinary answers. */
  void fail(String id, ServiceError e) {
    reply(id, e);
    if (e.code() == ErrorCode.BAD_REQUEST || e.code() == ErrorCode.UNAUTHORIZED && !c.connected) violation();
  }

  private void badFrame(String id, String message) {
    fail(id, ServiceError.badRequest(message));
  }

  private void violation() {
    if (c.violation(System.currentTimeMillis(), gw.cfg.violationLimit(), gw.cfg.violationWindowMs())) {
      c.disconnect(CloseCode.PROTOCOL_VIOLATION, "too many protocol violations");
    }
  }

  /** UTF-8 size of a string without encoding it. */
  static int utf8Length(String s) {
    int bytes = 0;
    for (int i = 0, n = s.length(); i < n; i++) {
      char ch = s.charAt(i);
      if (ch < 0x80) bytes += 1;
      else if (ch < 0x800) bytes += 2;
      else if (Character.isSurrogate(ch)) bytes += 2; // a pair is 4 bytes
      else bytes += 3;
    }
    return bytes;
  }

}
