package io.switchboard.gateway.protocol.pubnub;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.common.App;
import io.switchboard.common.Publication;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.GatewayConfig;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.SessionProtocol;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * The PubNub subscribe envelope of a publication or presence event, encoded once per publication and shared by every
 * long-poll subscriber (see {@link PubNubPoller}). The client → server half is REST ({@link PubNubEndpoint}): sessions
 * of this dialect never receive text.
 *
 * <p>Envelope invariants the SDK depends on: no {@code e} on messages and presence events ({@code e:0} would be read
 * as a file event), {@code e:1} on signals, region {@code r} non-zero, timetokens as strings, presence events on
 * {@code <channel>-pnpres}. The envelope STARTS with {@code {"p":{"t":"<17 digits>"}: the poller reads each entry's
 * timetoken at that fixed place instead of parsing it back.
 */
final class PubNubDialect implements SessionProtocol {
  static final int CODEC_ID = 4;
  static final String MESSAGE = "message";
  static final String SIGNAL = "pn.signal";
  static final String PRESENCE_SUFFIX = "-pnpres";
  /** Where the timetoken starts in every envelope: after {@code {"p":{"t":"}. */
  static final int TT_AT = "{\"p\":{\"t\":\"".length();
  static final int TT_DIGITS = 17;
  private final GatewayLoop loop;

  PubNubDialect(GatewayLoop loop) {
    this.loop = loop;
  }

  @Override
  public int codecId() {
    return CODEC_ID;
  }

  @Override
  public void onText(Session s, String text) {
    // never called: the transport is receive-only
  }

  @Override
  public void onBinary(Session s, int bytes) {}

  /**
   * Presence events only to clients subscribed to the channel's {@code -pnpres} (the SDK would drop them anyway);
   * messages and signals only when they pass the client's {@code filter-expr}.
   */
  @Override
  public int variant(Session s, Publication p) {
    if (s.dialectState instanceof PubNubPoller poller) {
      if (p.id() == null) {
        if (!poller.presenceWanted.contains(p.channel())) return -1;
      } else if (!passes(poller, p)) {
        return -1;
      }
    }
    return 0;
  }

  /** Whether a message reaches a client: no filter, or one it passes. */
  static boolean passes(PubNubPoller poller, Publication p) {
    PubNubFilter f = poller.filter;
    return f == null || p.id() == null || f.matches(p);
  }

  @Override
  public ByteBuf encodePublication(Publication p) {
    String event = p.event();
    String local = App.local(p.channel());
    String key = keyOf(p.channel());
    long tt = Timetokens.of(p.timestamp(), p.offset());
    StringBuilder b = new StringBuilder(128);
    b.append("{\"p\":{\"t\":\"").append(pad(tt)).append("\",\"r\":1},\"a\":\"1\",\"f\":0,");
    if (p.id() != null) {
      b.append("\"i\":").append(Json.encode(p.sourceId() == null ? "" : p.sourceId()))
          .append(",\"k\":").append(Json.encode(key)).append(",\"c\":").append(Json.encode(local))
          .append(",\"d\":").append(Json.encode(p.data()));
      if (p.meta() != null) b.append(",\"u\":").append(p.meta().encode());
      if (SIGNAL.equals(event)) b.append(",\"e\":1");
    } else if (event != null && event.startsWith("presence.")) {
      JsonObject data = p.data() instanceof JsonObject j ? j : new JsonObject();
      JsonObject d = new JsonObject();
      String action = switch (event) {
        case "presence.join" -> "join";
        case "presence.leave" -> "leave";
        case "presence.timeout" -> "timeout";
        case "presence.state" -> "state-change";
        default -> null;
      };
      if (action == null) return null;
      d.put("action", action).put("uuid", data.getString("subject")).put("timestamp", p.timestamp() / 1000);
      // the distinct subjects in the channel right after the change, counted by the presence service with it
      if (!"state-change".equals(action) && data.getValue("users") instanceof Number n) d.put("occupancy", n.intValue());
      if ("state-change".equals(action)) d.put("state", data.getJsonObject("state", new JsonObject()));
      String pres = local + PRESENCE_SUFFIX;
      b.append("\"k\":").append(Json.encode(key)).append(",\"c\":").append(Json.encode(pres))
          .append(",\"d\":").append(d.encode());
    } else {
      return null; // message.acked and other events: not shown to PubNub clients
    }
    b.append('}');
    return Unpooled.wrappedBuffer(b.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** The {@code interval} presence event of a channel (app-local name) of an app with key {@code key}. */
  static ByteBuf interval(String key, String local, int occupancy, long now) {
    JsonObject d = new JsonObject().put("action", "interval").put("occupancy", occupancy).put("timestamp", now / 1000);
    String b = "{\"p\":{\"t\":\"" + pad(Timetokens.of(now, 0)) + "\",\"r\":1},\"a\":\"1\",\"f\":0,\"k\":" + Json.encode(key)
        + ",\"c\":" + Json.encode(local + PRESENCE_SUFFIX) + ",\"d\":" + d.encode() + "}";
    return Unpooled.wrappedBuffer(b.getBytes(StandardCharsets.UTF_8));
  }

  static String pad(long tt) {
    String s = Long.toString(tt);
    return s.length() >= TT_DIGITS ? s : "0".repeat(TT_DIGITS - s.length()) + s;
  }

  String keyOf(String scoped) {
    int i = scoped.indexOf(App.SCOPE);
    App app = i < 0 ? loop.apps.defaultApp() : loop.apps.byId(scoped.substring(0, i));
    return app == null || app.key() == null ? "" : app.key();
  }

  @Override
  public void unsubscribed(Session s, String channel, String reason) {
    // the next poll reconciles the channel list; nothing to push
  }

  @Override
  public int closeCode(Disconnect d) {
    return 1000;
  }

  @Override
  public ByteBuf goodbye(Disconnect d, int code, String text) {
    return null;
  }

  /** Liveness is the poller's business (polls and heartbeats), not a ping: the core's ping never fires in practice. */
  @Override
  public long pingIntervalMs(GatewayConfig cfg) {
    return Long.MAX_VALUE / 4;
  }

  @Override
  public void ping(Session s) {
    s.alive();
  }

  /** A held poll carries the token it started with: leave the client time to come back with a fresh one. */
  @Override
  public long expiryGraceMs() {
    return PubNubPoller.EXPIRED_GRACE_MS;
  }

  @Override
  public void closed(Session s) {
    if (s.dialectState instanceof PubNubPoller p) p.sessionClosed();
  }
}
