package io.switchboard.gateway.protocol.nativev1;

import io.netty.buffer.ByteBuf;
import io.switchboard.common.Channels;
import io.switchboard.common.CloseCode;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Publication;
import io.switchboard.common.SafeJson;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.GatewayConfig;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.SessionProtocol;
import io.switchboard.gateway.core.Subscriptions;
import io.switchboard.gateway.transport.Framing;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * Native protocol v1 (docs/protocol.md): reads frames, validates them, and dispatches them to the session core. Bad
 * input gets an error naming what was wrong and the connection stays; only repeated violations close it (4002).
 * Stateless: one instance serves every native session.
 */
public final class NativeDialect implements SessionProtocol {
  public static final NativeDialect INSTANCE = new NativeDialect();
  /** Frame-cache slot of this dialect. */
  static final int CODEC_ID = 0;

  private NativeDialect() {}

  /** A new session: with {@code Authorization: Bearer} on the upgrade request it connects at once. */
  public void open(Session s) {
    String authorization = s.transport.header("Authorization");
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      String token = authorization.substring(7).trim();
      if (token.isEmpty()) s.disconnect(Disconnect.INVALID_TOKEN, "empty bearer token");
      else connect(s, null, new JsonObject().put("token", token));
    }
  }

  @Override
  public int codecId() {
    return CODEC_ID;
  }

  // --- frames -------------------------------------------------------------------------------------

  @Override
  public void onBinary(Session s, int bytes) {
    badFrame(s, null, "binary frames are not supported: send JSON text frames");
  }

  @Override
  public void onText(Session s, String text) {
    JsonObject frame;
    try {
      frame = SafeJson.parseObject(text); // nesting bounded: a deep value never reaches the store or an encoder
    } catch (ServiceError e) {
      badFrame(s, null, "frame: " + e.getMessage());
      return;
    }
    Object idValue = frame.getValue("id");
    if (idValue != null && !(idValue instanceof String)) {
      badFrame(s, null, "id must be a string");
      return;
    }
    String id = (String) idValue;
    Object type = frame.getValue("type");
    if (!(type instanceof String t)) {
      badFrame(s, id, type == null ? "type is required (request, subscribe, unsubscribe or ping)" : "type must be a string");
      return;
    }
    try {
      switch (t) {
        case "ping" -> {
          if (s.transport.framing() == Framing.WEBSOCKET_TEXT) s.send(NativeFrames.PONG);
          else send(s, new JsonObject().put("type", "pong"));
        }
        case "request" -> request(s, id, frame);
        case "subscribe" -> {
          requireConnected(s);
          NativeRequests.subscribe(s, requireId(id), frame.getValue("channels"));
        }
        case "unsubscribe" -> {
          requireConnected(s);
          NativeRequests.unsubscribe(s, requireId(id), frame.getValue("channels"));
        }
        default -> throw ServiceError.badRequest("unknown type '" + Channels.abbreviate(t) + "' (request, subscribe, unsubscribe or ping)");
      }
    } catch (ServiceError e) {
      fail(s, id, e);
    } catch (RuntimeException e) {
      // a bug must still answer: the client gets internal, the log the cause
      System.getLogger(NativeDialect.class.getName()).log(System.Logger.Level.ERROR, "native request failed",
          io.switchboard.gateway.core.SessionLog.of(s).error(e));
      fail(s, id, new ServiceError(ErrorCode.INTERNAL, "internal error"));
    }
  }

  private void request(Session s, String id, JsonObject frame) {
    requireId(id);
    Object m = frame.getValue("method");
    if (!(m instanceof String method) || method.isEmpty()) throw ServiceError.badRequest("method must be a non-empty string");
    Object p = frame.getValue("params");
    if (p != null && !(p instanceof JsonObject)) throw ServiceError.badRequest("params must be an object");
    JsonObject params = p == null ? new JsonObject() : (JsonObject) p;
    if (method.equals("connect")) {
      connect(s, id, params);
      return;
    }
    requireConnected(s);
    switch (method) {
      case "refresh" -> refresh(s, id, params);
      case "publish" -> replyWith(s, id, NativeRequests.publish(s, params));
      case "history" -> replyWith(s, id, NativeRequests.history(s, params));
      case "presence" -> replyWith(s, id, NativeRequests.presence(s, params));
      case "presence.setState" -> replyWith(s, id, NativeRequests.setState(s, params));
      case "ack" -> replyWith(s, id, NativeRequests.ack(s, params));
      case "pending" -> replyWith(s, id, NativeRequests.pending(s, params));
      default -> replyWith(s, id, s.loop.ops.rpc(s, s.app, method, params));
    }
  }

  private static String requireId(String id) {
    if (id == null || id.isEmpty()) throw ServiceError.badRequest("id is required (a string the response will echo)");
    return id;
  }

  private static void requireConnected(Session s) {
    if (!s.connected()) throw new ServiceError(ErrorCode.UNAUTHORIZED, "send connect with a token first");
  }

  // --- connect and refresh ------------------------------------------------------------------------

  private void connect(Session s, String id, JsonObject params) {
    if (s.state() == Session.State.CONNECTING) throw ServiceError.badRequest("connect is already in progress");
    if (s.connected()) throw ServiceError.badRequest("already connected; use refresh to replace the token");
    // without a token, an app backend's connect proxy may name the identity (a cookie it knows)
    boolean byBackend = params.getValue("token") == null && s.loop.backend.connects();
    String token = byBackend ? null : io.switchboard.gateway.core.Params.string(params, "token", true, 16 * 1024);
    Subscriptions.Request recover = NativeRequests.personalRecovery(params);
    (byBackend ? s.loop.authenticateByBackend(s) : s.loop.authenticate(s, token)).onComplete(ar -> {
      if (s.closing()) return;
      if (ar.failed()) {
        ServiceError e = ServiceError.from(ar.cause(), "token verification");
        if (id != null) reply(s, id, e);
        s.disconnect(disconnectFor(e), e.getMessage());
        return;
      }
      s.loop.subscriptions.subscribePersonal(s, recover).onComplete(personal -> {
        // written straight to bytes (ConnectReply): the same JSON as the tree, without databind
        ByteBuf answer = ConnectReply.encode(id, s.id, s.subject(), s.claims().exp(), s.loop.cfg.pingIntervalMs() / 1000.0,
            personal.succeeded() ? personal.result().outcomes() : java.util.List.of());
        s.sendPayload(answer);
        answer.release();
        if (personal.succeeded()) s.loop.subscriptions.goLive(s, personal.result());
      });
    });
  }

  static Disconnect disconnectFor(ServiceError e) {
    return switch (e.code()) {
      case TOKEN_EXPIRED -> Disconnect.TOKEN_EXPIRED;
      case UNAVAILABLE -> Disconnect.GOING_AWAY;
      case LIMIT_EXCEEDED -> Disconnect.CONNECTION_LIMIT;
      default -> e.getMessage().contains("revoked") ? Disconnect.FORBIDDEN : Disconnect.INVALID_TOKEN;
    };
  }

  private void refresh(Session s, String id, JsonObject params) {
    String token = io.switchboard.gateway.core.Params.string(params, "token", true, 16 * 1024);
    s.loop.verifier.verify(token).onComplete(ar -> {
      if (ar.failed()) {
        reply(s, id, ServiceError.from(ar.cause(), "token verification"));
        return;
      }
      var next = ar.result();
      if (!next.subject().equals(s.subject())) {
        reply(s, id, new ServiceError(ErrorCode.PERMISSION_DENIED,
            "refresh token is for subject " + next.subject() + ", this connection is " + s.subject()));
        return;
      }
      s.refreshed(next);
      for (String channel : s.loop.subscriptions.dropUngranted(s)) unsubscribed(s, channel, "grant revoked");
      reply(s, id, new JsonObject().put("expiresAt", Instant.ofEpochSecond(next.exp()).toString()));
    });
  }

  // --- answers ------------------------------------------------------------------------------------

  static void send(Session s, JsonObject frame) {
    ByteBuf b = NativeFrames.payload(frame);
    s.sendPayload(b);
    b.release();
  }

  static void reply(Session s, String id, Object result) {
    send(s, NativeFrames.response(id, result));
  }

  static void reply(Session s, String id, ServiceError e) {
    send(s, NativeFrames.errorResponse(id, e));
  }

  /** Answers a request with the outcome of a core operation (result or typed error). */
  static <T> void replyWith(Session s, String id, Future<T> f) {
    f.onComplete(ar -> {
      if (ar.succeeded()) reply(s, id, ar.result());
      else reply(s, id, ServiceError.from(ar.cause(), "request"));
    });
  }

  /** A failed request: bad requests count as violations, the rest are ordinary answers. */
  static void fail(Session s, String id, ServiceError e) {
    reply(s, id, e);
    if (e.code() == ErrorCode.BAD_REQUEST || e.code() == ErrorCode.UNAUTHORIZED && !s.connected()) s.violation();
  }

  private static void badFrame(Session s, String id, String message) {
    fail(s, id, ServiceError.badRequest(message));
  }

  // --- pushes -------------------------------------------------------------------------------------

  @Override
  public ByteBuf encodePublication(Publication p) {
    return NativeFrames.event(p);
  }

  @Override
  public void unsubscribed(Session s, String channel, String reason) {
    send(s, NativeFrames.unsubscribed(channel, reason));
  }

  /** A server-side subscription (server API): {@code {"type":"subscribed", channel, ok, offset?, epoch?}}. */
  @Override
  public void subscribed(Session s, Subscriptions.Outcome outcome) {
    send(s, NativeRequests.outcome(outcome).put("type", "subscribed"));
  }

  @Override
  public int closeCode(Disconnect d) {
    return switch (d) {
      case NORMAL -> CloseCode.NORMAL;
      case GOING_AWAY -> CloseCode.GOING_AWAY;
      case TOO_LARGE -> CloseCode.TOO_LARGE;
      case BAD_FRAMING -> 1002;
      case INVALID_UTF8 -> 1007;
      case INVALID_TOKEN, UNKNOWN_APP -> CloseCode.INVALID_TOKEN;
      case PROTOCOL_VIOLATION -> CloseCode.PROTOCOL_VIOLATION;
      case FORBIDDEN, TERMINATED -> CloseCode.FORBIDDEN;
      case CONNECTION_LIMIT -> CloseCode.CONNECTION_LIMIT;
      case SLOW_CONSUMER -> CloseCode.SLOW_CONSUMER;
      case TOKEN_EXPIRED -> CloseCode.TOKEN_EXPIRED;
      case NO_PONG -> CloseCode.NO_PONG;
      case CONNECT_TIMEOUT -> CloseCode.CONNECT_TIMEOUT;
      case DRAINING -> CloseCode.DRAINING;
    };
  }

  @Override
  public ByteBuf goodbye(Disconnect d, int code, String text) {
    return NativeFrames.payload(NativeFrames.disconnect(code, text, CloseCode.reconnect(code)));
  }

  @Override
  public long pingIntervalMs(GatewayConfig cfg) {
    return cfg.pingIntervalMs();
  }

  @Override
  public void ping(Session s) {
    if (!s.transport.ping()) send(s, new JsonObject().put("type", "ping"));
  }
}
