package io.switchboard.gateway.protocol.centrifuge;

import io.netty.buffer.ByteBuf;
import io.switchboard.common.Channels;
import io.switchboard.common.Defaults;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.Claims;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.GatewayConfig;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Params;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.SessionProtocol;
import io.switchboard.gateway.core.Subscriptions;
import io.switchboard.gateway.transport.Framing;
import io.vertx.core.json.JsonObject;

/**
 * Centrifuge client protocol v2 in JSON (what centrifuge-js v5 speaks): newline-batched commands
 * {@code {id, <method>: {…}}}, each answered by a reply with the same id; pushes without id; {@code {}} as the
 * server's ping and the client's pong.
 *
 * <p>Strict like Centrifuge: the first command must be {@code connect}; a command without id (other than
 * {@code send} and the pong), with no known method, or that is not JSON closes the connection with 3501. Command
 * errors are replies with the numeric codes of {@link CentrifugeCodes}; the connection stays.
 *
 * <p>One instance per event loop: it holds the loop's per-channel fossil-delta state ({@link DeltaChannels}).
 */
public final class CentrifugeDialect implements SessionProtocol {
  /** Frame-cache slot of this dialect. */
  static final int CODEC_ID = 3;
  /** What the connect and refresh answers give as the server version. */
  static final String VERSION = "switchboard";

  final GatewayLoop loop;
  final DeltaChannels deltas;
  /** Sessions on emulation transports (HTTP streaming, SSE): disconnects are pushes, connect names the session. */
  final boolean emulation;
  private final CentrifugeCommands commands;
  /** A close code chosen by the dialect for the disconnect being made (the core's reasons have no 3508…); 0 = none. */
  private int closeCodeOverride;

  /**
   * @param deltas the loop's fossil-delta state, shared by the WebSocket and the emulation instance (the frame cache
   *     keeps their frames apart by framing)
   */
  CentrifugeDialect(GatewayLoop loop, DeltaChannels deltas, boolean emulation) {
    this.loop = loop;
    this.deltas = deltas;
    this.emulation = emulation;
    this.commands = new CentrifugeCommands(this);
  }

  static CentrifugeSession state(Session s) {
    if (s.dialectState == null) s.dialectState = new CentrifugeSession();
    return (CentrifugeSession) s.dialectState;
  }

  @Override
  public int codecId() {
    return CODEC_ID;
  }

  // --- commands -----------------------------------------------------------------------------------

  @Override
  public void onBinary(Session s, int bytes) {
    badRequest(s, "binary frames need the centrifuge-protobuf subprotocol, which this server does not speak: send JSON text");
  }

  @Override
  public void onText(Session s, String text) {
    int start = 0;
    int n = text.length();
    while (start <= n && !s.closing()) {
      int end = text.indexOf('\n', start);
      if (end < 0) end = n;
      String line = text.substring(start, end).trim();
      start = end + 1;
      if (line.isEmpty()) continue;
      JsonObject cmd;
      try {
        cmd = new JsonObject(line);
      } catch (RuntimeException e) {
        badRequest(s, "command is not a JSON object");
        return;
      }
      command(s, cmd);
    }
  }

  private void command(Session s, JsonObject cmd) {
    CentrifugeSession cs = state(s);
    if (cmd.isEmpty()) {
      pong(s, cs);
      return;
    }
    if (s.state() == Session.State.CONNECTING) {
      cs.hold(cmd); // connect is being verified: keep order
      return;
    }
    Object idValue = cmd.getValue("id");
    long id;
    if (idValue == null) {
      id = 0;
    } else if (idValue instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue()) && num.longValue() > 0
        && num.longValue() <= 0xFFFFFFFFL) {
      id = num.longValue();
    } else {
      badRequest(s, "id must be a positive whole number");
      return;
    }
    String method = CentrifugeCommands.method(cmd);
    if (method == null) {
      badRequest(s, "command has no known method (connect, subscribe, unsubscribe, publish, presence, presence_stats, "
          + "history, rpc, send, refresh, sub_refresh)");
      return;
    }
    if (id == 0 && !method.equals("send")) {
      badRequest(s, method + " needs an id");
      return;
    }
    Object body = cmd.getValue(method);
    if (!(body instanceof JsonObject req)) {
      badRequest(s, method + " must be an object");
      return;
    }
    if (method.equals("connect")) {
      connect(s, id, req);
      return;
    }
    if (!s.connected()) {
      badRequest(s, "the first command must be connect");
      return;
    }
    try {
      commands.run(s, id, method, req);
    } catch (ServiceError e) {
      replyError(s, id, e);
    } catch (RuntimeException e) {
      System.getLogger(CentrifugeDialect.class.getName()).log(System.Logger.Level.ERROR, "centrifuge " + method + " failed",
          io.switchboard.gateway.core.SessionLog.of(s, "method", method).error(e));
      replyError(s, id, new ServiceError(ErrorCode.INTERNAL, "internal error"));
    }
  }

  private void pong(Session s, CentrifugeSession cs) {
    if (!cs.pingOutstanding) {
      badRequest(s, "pong without a ping");
      return;
    }
    cs.pingOutstanding = false;
    s.alive();
  }

  /** Centrifuge answers a malformed command by closing with 3501 (bad request). */
  void badRequest(Session s, String why) {
    s.disconnect(Disconnect.PROTOCOL_VIOLATION, why);
  }

  /** Closes with a Centrifuge code that no core reason maps to. */
  void disconnect(Session s, Disconnect reason, int code, String text) {
    closeCodeOverride = code;
    try {
      s.disconnect(reason, text);
    } finally {
      closeCodeOverride = 0;
    }
  }

  // --- connect and refresh ------------------------------------------------------------------------

  private void connect(Session s, long id, JsonObject req) {
    if (s.state() != Session.State.OPEN) {
      badRequest(s, "already connected");
      return;
    }
    String token;
    Subscriptions.Request personal;
    try {
      token = Params.string(req, "token", false, 16 * 1024);
      personal = personalRecovery(req);
    } catch (ServiceError e) {
      replyError(s, id, e);
      return;
    }
    if (token == null || token.isEmpty()) {
      replyError(s, id, new ServiceError(ErrorCode.UNAUTHORIZED, "connect needs a token (a Switchboard ES256 token from the auth service)"));
      return;
    }
    loop.authenticate(s, token).onComplete(ar -> {
      if (s.closing()) return;
      if (ar.failed()) {
        state(s).takeWaiting(); // commands sent behind a failed connect are not run
        connectFailed(s, id, ServiceError.from(ar.cause(), "token verification"));
        return;
      }
      // its publications carry no epoch: the client must learn the channel's real one at connect
      loop.subscriptions.subscribePersonal(s, personal, true).onComplete(est -> {
        if (s.closing()) return;
        JsonObject subs = new JsonObject();
        if (est.succeeded()) {
          for (Subscriptions.Outcome o : est.result().outcomes()) {
            if (o.ok()) subs.put(o.channel(), commands.subscribeResult(s, o, est.result(), personal != null, null));
          }
        }
        JsonObject result = new JsonObject().put("client", s.id).put("version", VERSION);
        expiry(result, s.claims());
        result.put("ping", pingSeconds()).put("pong", true);
        // an emulation client names its session in every /emulation request
        if (emulation) result.put("session", s.id).put("node", loop.node);
        if (!subs.isEmpty()) result.put("subs", subs);
        send(s, CentrifugeFrames.reply(id, "connect", result));
        if (est.succeeded()) loop.subscriptions.goLive(s, est.result(), false);
        for (JsonObject held : state(s).takeWaiting()) {
          if (!s.closing()) command(s, held);
        }
      });
    });
  }

  /** {@code connect.subs} may carry the personal channel's position (centrifuge-js sends its server-side subs). */
  private Subscriptions.Request personalRecovery(JsonObject req) {
    JsonObject subs = Params.object(req, "subs", false);
    if (subs == null) return null;
    for (String channel : subs.fieldNames()) {
      if (!Channels.isPersonal(channel) || !(subs.getValue(channel) instanceof JsonObject sub)) continue;
      if (!Params.bool(sub, "recover", false)) continue;
      long offset = Params.integer(sub, "offset", 0, 0, Long.MAX_VALUE);
      String epoch = Params.string(sub, "epoch", false, 64);
      return new Subscriptions.Request(channel, offset, epoch == null ? "" : epoch);
    }
    return null;
  }

  private void connectFailed(Session s, long id, ServiceError e) {
    switch (e.code()) {
      // centrifuge-js asks getToken for a new one and reconnects
      case TOKEN_EXPIRED -> replyError(s, id, new ServiceError(ErrorCode.TOKEN_EXPIRED, e.getMessage()));
      // temporary: the client reconnects with backoff
      case UNAVAILABLE -> replyError(s, id, e);
      case LIMIT_EXCEEDED -> s.disconnect(Disconnect.CONNECTION_LIMIT, e.getMessage());
      default -> s.disconnect(e.getMessage().contains("revoked") ? Disconnect.FORBIDDEN : Disconnect.INVALID_TOKEN, e.getMessage());
    }
  }

  void refresh(Session s, long id, JsonObject req) {
    String token = Params.string(req, "token", true, 16 * 1024);
    loop.verifier.verify(token).onComplete(ar -> {
      if (s.closing()) return;
      if (ar.failed()) {
        ServiceError e = ServiceError.from(ar.cause(), "token verification");
        switch (e.code()) {
          case TOKEN_EXPIRED -> s.disconnect(Disconnect.TOKEN_EXPIRED, "expired");
          case UNAVAILABLE -> replyError(s, id, e);
          default -> s.disconnect(Disconnect.INVALID_TOKEN, e.getMessage());
        }
        return;
      }
      Claims next = ar.result();
      if (!next.subject().equals(s.subject())) {
        s.disconnect(Disconnect.INVALID_TOKEN, "refresh token is for another subject");
        return;
      }
      s.refreshed(next);
      for (String channel : loop.subscriptions.dropUngranted(s)) {
        commands.forget(s, s.app.scope(channel));
        unsubscribed(s, s.app.scope(channel), "grant revoked");
      }
      JsonObject result = new JsonObject().put("client", s.id).put("version", VERSION);
      expiry(result, next);
      send(s, CentrifugeFrames.reply(id, "refresh", result));
    });
  }

  private static void expiry(JsonObject result, Claims c) {
    long ttl = c.exp() - System.currentTimeMillis() / 1000;
    result.put("expires", true).put("ttl", Math.max(1, ttl));
  }

  private long pingSeconds() {
    return Math.max(1, (loop.cfg.pingIntervalMs() + 999) / 1000);
  }

  // --- answers ------------------------------------------------------------------------------------

  static void send(Session s, JsonObject frame) {
    ByteBuf b = CentrifugeFrames.payload(frame);
    s.sendPayload(b);
    b.release();
  }

  static void replyError(Session s, long id, ServiceError e) {
    send(s, CentrifugeFrames.error(id, e));
  }

  // --- pushes -------------------------------------------------------------------------------------

  @Override
  public ByteBuf encodePublication(Publication p) {
    if (p.id() == null) return CentrifugeFrames.presencePush(p);
    return CentrifugeFrames.pubPush(p, CentrifugeFrames.PLAIN, null);
  }

  @Override
  public int variant(Session s, Publication p) {
    if (!(s.dialectState instanceof CentrifugeSession cs)) return CentrifugeFrames.PLAIN;
    if (p.id() == null) {
      // presence events: only to subscriptions that asked for join/leave
      if (cs.joinLeaveSubs == 0) return -1;
      CentrifugeSession.Sub sub = cs.sub(p.channel());
      return sub != null && sub.joinLeave ? CentrifugeFrames.PLAIN : -1;
    }
    if (cs.deltaSubs == 0) return CentrifugeFrames.PLAIN;
    CentrifugeSession.Sub sub = cs.sub(p.channel());
    if (sub == null || !sub.delta) return CentrifugeFrames.PLAIN;
    if (!p.stored()) return CentrifugeFrames.FULL_STRING;
    DeltaChannels.Channel ch = deltas.see(p);
    boolean inSync = ch != null && ch.current(p) && ch.prevData != null && sub.lastOffset == ch.prevOffset
        && java.util.Objects.equals(sub.lastEpoch, ch.epoch);
    sub.lastOffset = p.offset();
    sub.lastEpoch = p.epoch();
    return inSync && ch.delta() != null ? CentrifugeFrames.DELTA : CentrifugeFrames.FULL_STRING;
  }

  @Override
  public ByteBuf encodePublication(Publication p, int variant) {
    if (variant == CentrifugeFrames.DELTA) {
      DeltaChannels.Channel ch = deltas.get(p.channel());
      // variant() chose DELTA for this very publication just now: the channel's delta is p's
      if (ch != null && ch.current(p) && ch.delta() != null) return CentrifugeFrames.pubPush(p, variant, ch.delta());
      return CentrifugeFrames.pubPush(p, CentrifugeFrames.FULL_STRING, null);
    }
    return CentrifugeFrames.pubPush(p, variant, null);
  }

  @Override
  public void unsubscribed(Session s, String channel, String reason) {
    ByteBuf b = CentrifugeFrames.unsubscribePush(channel, CentrifugeCodes.UNSUBSCRIBE_SERVER, reason);
    s.sendPayload(b);
    b.release();
  }

  @Override
  public int closeCode(Disconnect d) {
    return closeCodeOverride != 0 ? closeCodeOverride : CentrifugeCodes.disconnect(d);
  }

  /**
   * On WebSocket a Centrifuge disconnect is the close frame's code and reason, never a message; on emulation
   * transports (no close frame) it is a disconnect push.
   */
  @Override
  public ByteBuf goodbye(Disconnect d, int code, String text) {
    if (!emulation) return null;
    boolean reconnect = code >= 3000 && code < 3500 || code >= 4000 && code < 4500 || code >= 5000;
    return CentrifugeFrames.payload(new JsonObject().put("push", new JsonObject().put("disconnect",
        new JsonObject().put("code", code).put("reason", text == null ? "" : text).put("reconnect", reconnect))));
  }

  @Override
  public long pingIntervalMs(GatewayConfig cfg) {
    return cfg.pingIntervalMs();
  }

  /** The server's ping is an empty reply; centrifuge-js answers {@code {}} because connect said {@code pong:true}. */
  @Override
  public void ping(Session s) {
    state(s).pingOutstanding = true;
    if (s.transport.framing() == Framing.WEBSOCKET_TEXT) {
      s.send(CentrifugeFrames.PING);
    } else {
      send(s, new JsonObject());
    }
  }

  @Override
  public long expiryGraceMs() {
    return Defaults.CENTRIFUGE_EXPIRED_CLOSE_DELAY_MS;
  }

  @Override
  public void closed(Session s) {
    if (s.dialectState instanceof CentrifugeSession cs) {
      if (cs.emulationInbox != null) cs.emulationInbox.unregister();
      for (String channel : cs.clear()) deltas.removed(channel);
    }
  }
}
