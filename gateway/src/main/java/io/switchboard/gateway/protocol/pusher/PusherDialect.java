package io.switchboard.gateway.protocol.pusher;

import io.netty.buffer.ByteBuf;
import io.switchboard.common.App;
import io.switchboard.common.Capability;
import io.switchboard.common.Channels;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Grants;
import io.switchboard.common.Priority;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.Claims;
import io.switchboard.gateway.core.ChannelOps;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.GatewayConfig;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.SessionProtocol;
import io.switchboard.gateway.core.Subscriptions;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pusher Channels protocol 7 as a dialect of the session core. Pusher's model maps onto Switchboard's:
 * <ul>
 *   <li>public channels are open to whoever has the app key (the session's grants: subscribe on every channel);
 *   <li>{@code private-} and {@code presence-} channels are authorized one by one by the app server's HMAC
 *       signature over {@code socket_id:channel[:channel_data]}, recorded as the session's channel authorization
 *       that the one {@code ChannelAccess} decision consults;
 *   <li>{@code #server-to-user-<id>} IS the personal channel {@code user:<id>}: only the signed-in user subscribes;
 *   <li>a presence member is a USER: {@code member_added}/{@code member_removed} only for a user's first and last
 *       connection, cluster-wide (the presence service counts each subject's clients atomically);
 *   <li>client events ({@code client-*}) are publications of the channel, never echoed to the sender.
 * </ul>
 * Data on the wire is a JSON string (double encoding): publication data that is a string goes as is, anything else is
 * encoded to its JSON text.
 */
public final class PusherDialect implements SessionProtocol {
  static final int CODEC_ID = 1;
  static final String USER_CHANNEL_PREFIX = "#server-to-user-";
  private static final Grants PUBLIC = Grants.parse(new JsonArray().add(new JsonObject().put("channel", "*")
      .put("capabilities", new JsonArray().add("subscribe"))), "grants");
  public static final PusherDialect INSTANCE = new PusherDialect();

  private PusherDialect() {}

  @Override
  public int codecId() {
    return CODEC_ID;
  }

  /** A new session: it is connected at once (Pusher has no connect step) and told its socket id. */
  void open(Session s) {
    PusherState st = new PusherState(s.app.clientEventsPerSecond());
    s.dialectState = st;
    s.channelAuthorizer(channel -> signed(channel) ? st.authorized.getOrDefault(channel, Set.of()) : null);
    if (!s.loop.subjectLimits.acquireApp(s.app)) {
      s.disconnect(Disconnect.CONNECTION_LIMIT, "Application is over connection quota");
      return;
    }
    s.connected(anonymous(s.id));
    send(s, "pusher:connection_established", null, new JsonObject().put("socket_id", s.id)
        .put("activity_timeout", Math.max(1, s.loop.cfg.pingIntervalMs() / 1000)).encode());
  }

  private static Claims anonymous(String subject) {
    long now = System.currentTimeMillis() / 1000;
    return new Claims(subject, null, now, Long.MAX_VALUE / 2000, PUBLIC, "pusher", Claims.NO_INFO);
  }

  private static boolean signed(String channel) {
    return channel.startsWith("private-") || channel.startsWith("presence-");
  }

  private static boolean presence(String channel) {
    return channel.startsWith("presence-");
  }

  private static boolean cache(String channel) {
    return channel.startsWith("cache-") || channel.startsWith("private-cache-") || channel.startsWith("presence-cache-");
  }

  /** The Switchboard name of a Pusher channel name. */
  static String internal(String pusherName) {
    return pusherName.startsWith(USER_CHANNEL_PREFIX) ? Channels.personal(pusherName.substring(USER_CHANNEL_PREFIX.length())) : pusherName;
  }

  /** The Pusher name of an app-local Switchboard channel name. */
  static String external(String local) {
    return Channels.isPersonal(local) ? USER_CHANNEL_PREFIX + local.substring(Channels.PERSONAL_NAMESPACE.length() + 1) : local;
  }

  static PusherState state(Session s) {
    return (PusherState) s.dialectState;
  }

  // --- from the client ----------------------------------------------------------------------------

  @Override
  public void onBinary(Session s, int bytes) {
    error(s, null, "binary frames are not supported: send JSON text frames");
    s.violation();
  }

  @Override
  public void onText(Session s, String text) {
    s.alive(); // any message shows the client is there
    JsonObject frame;
    try {
      frame = new JsonObject(text);
    } catch (RuntimeException e) {
      error(s, null, "message is not a JSON object");
      s.violation();
      return;
    }
    if (!(frame.getValue("event") instanceof String event) || event.isEmpty()) {
      error(s, null, "event must be a non-empty string");
      s.violation();
      return;
    }
    try {
      switch (event) {
        case "pusher:ping" -> send(s, "pusher:pong", null, "{}");
        case "pusher:pong" -> { }
        case "pusher:subscribe" -> subscribe(s, data(frame));
        case "pusher:unsubscribe" -> unsubscribe(s, data(frame));
        case "pusher:signin" -> signin(s, data(frame));
        default -> {
          if (event.startsWith("client-")) clientEvent(s, event, frame);
          else error(s, null, "unknown event '" + Channels.abbreviate(event) + "'");
        }
      }
    } catch (ServiceError e) {
      error(s, null, e.getMessage());
      if (e.code() == ErrorCode.BAD_REQUEST) s.violation();
    }
  }

  /** pusher-js sends data as an object; other clients as a JSON string. */
  private static JsonObject data(JsonObject frame) {
    Object d = frame.getValue("data");
    if (d instanceof JsonObject o) return o;
    if (d instanceof String str) {
      try {
        return new JsonObject(str);
      } catch (RuntimeException e) {
        throw ServiceError.badRequest("data must be a JSON object");
      }
    }
    throw ServiceError.badRequest("data must be a JSON object");
  }

  private static String string(JsonObject o, String field, boolean required) {
    Object v = o.getValue(field);
    if (v == null && !required) return null;
    if (!(v instanceof String str) || str.isEmpty()) throw ServiceError.badRequest(field + " must be a non-empty string");
    return str;
  }

  // --- subscribe ----------------------------------------------------------------------------------

  private void subscribe(Session s, JsonObject d) {
    String channel = string(d, "channel", true);
    if (channel.length() > 200) throw ServiceError.badRequest("channel name is longer than 200 characters");
    String name = internal(channel);
    PusherState st = state(s);
    if (signed(channel)) {
      String auth = d.getValue("auth") instanceof String a ? a : null;
      String channelData = d.getValue("channel_data") instanceof String cd ? cd : null;
      String expected = PusherSignatures.channelAuth(s.app.key(), s.app.secret(), s.id, channel, presence(channel) ? channelData : null);
      if (auth == null || !PusherSignatures.equal(auth, expected)) {
        subscriptionError(s, channel, "AuthError", "Invalid signature for channel " + channel, 401);
        return;
      }
      if (presence(channel)) {
        PusherState.PresenceUser user = presenceUser(s, channelData);
        if (user == null) {
          subscriptionError(s, channel, "AuthError", "channel_data must be JSON with a user_id and an optional user_info object of at most "
              + s.app.maxPresenceInfoBytes() + " bytes", 400);
          return;
        }
        st.presence.put(name, user);
      }
      st.authorized.put(name, PusherState.caps(s.app.clientEvents()));
    }
    s.loop.subscriptions.subscribe(s, List.of(new Subscriptions.Request(name, null, null))).onComplete(ar -> {
      Subscriptions.Established est = ar.result();
      Subscriptions.Outcome o = est.outcomes().get(0);
      if (!o.ok()) {
        if (o.error().code() == ErrorCode.ALREADY_SUBSCRIBED) {
          succeeded(s, channel, name, null);
        } else {
          forget(st, name);
          subscriptionError(s, channel, o.error().code().wire(), o.error().getMessage(), o.error().code().httpStatus());
        }
        return;
      }
      if (presence(channel)) {
        // the members include this one: read them once its join is answered
        s.presenceSettled().compose(v -> s.loop.ops.presence(s, s.app, name)).onComplete(members -> {
          if (members.failed()) {
            s.loop.subscriptions.unsubscribe(s, List.of(name));
            forget(st, name);
            ServiceError e = ServiceError.from(members.cause(), "presence");
            subscriptionError(s, channel, e.code().wire(), e.getMessage(), e.code().httpStatus());
            return;
          }
          JsonObject hash = presenceHash(members.result().getJsonArray("members", new JsonArray()));
          if (hash.getInteger("count") > s.app.maxPresenceMembers()) {
            s.loop.subscriptions.unsubscribe(s, List.of(name));
            forget(st, name);
            subscriptionError(s, channel, "LimitReached", "presence channel " + channel + " has the most members allowed ("
                + s.app.maxPresenceMembers() + ")", 403);
            return;
          }
          succeeded(s, channel, name, new JsonObject().put("presence", hash));
          s.loop.subscriptions.goLive(s, est);
        });
        return;
      }
      succeeded(s, channel, name, null);
      if (cache(channel)) replayCached(s, channel, name, o, est);
      else s.loop.subscriptions.goLive(s, est);
    });
  }

  private static void forget(PusherState st, String name) {
    st.authorized.remove(name);
    st.presence.remove(name);
  }

  private PusherState.PresenceUser presenceUser(Session s, String channelData) {
    if (channelData == null || channelData.length() > s.app.maxPresenceInfoBytes() + 256) return null;
    try {
      JsonObject cd = new JsonObject(channelData);
      Object id = cd.getValue("user_id");
      String userId = id instanceof String str && !str.isEmpty() ? str : id instanceof Number n ? n.toString() : null;
      Object info = cd.getValue("user_info");
      if (userId == null || info != null && !(info instanceof JsonObject)) return null;
      JsonObject userInfo = info == null ? new JsonObject() : (JsonObject) info;
      if (userInfo.encode().length() > s.app.maxPresenceInfoBytes()) return null;
      return new PusherState.PresenceUser(userId, userInfo);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** {ids, hash, count} over USERS: a user with several connections is one member. */
  static JsonObject presenceHash(JsonArray members) {
    Map<String, Object> hash = new LinkedHashMap<>();
    for (Object o : members) {
      JsonObject m = (JsonObject) o;
      hash.putIfAbsent(m.getString("subject"), m.getJsonObject("info", new JsonObject()));
    }
    return new JsonObject().put("ids", new JsonArray(List.copyOf(hash.keySet()))).put("hash", new JsonObject(hash))
        .put("count", hash.size());
  }

  private void succeeded(Session s, String channel, String name, JsonObject data) {
    send(s, "pusher_internal:subscription_succeeded", channel, data == null ? "{}" : data.encode());
  }

  /** Cache channels: the channel's last event (or pusher:cache_miss) right after the subscription. */
  private void replayCached(Session s, String channel, String name, Subscriptions.Outcome o, Subscriptions.Established est) {
    if (!o.stored() || o.offset() == 0) {
      send(s, "pusher:cache_miss", channel, "{}");
      PusherWebhooks.cacheMiss(s, channel);
      s.loop.subscriptions.goLive(s, est);
      return;
    }
    // exactly the publication at the position the subscription starts from: later ones come live
    s.loop.ops.publicationAt(s, name, o.offset(), o.epoch()).onComplete(h -> {
      Publication last = h.succeeded() ? h.result() : null;
      if (last == null) {
        send(s, "pusher:cache_miss", channel, "{}");
        PusherWebhooks.cacheMiss(s, channel);
      } else {
        ByteBuf b = encodePublication(last);
        if (b != null) {
          s.sendPayload(b);
          b.release();
        }
      }
      s.loop.subscriptions.goLive(s, est);
    });
  }

  private void subscriptionError(Session s, String channel, String type, String message, int status) {
    JsonObject data = new JsonObject().put("type", type).put("error", message).put("status", status);
    send(s, "pusher:subscription_error", channel, data.encode());
  }

  private void unsubscribe(Session s, JsonObject d) {
    String channel = string(d, "channel", true);
    String name = internal(channel);
    s.loop.subscriptions.unsubscribe(s, List.of(name));
    forget(state(s), name);
  }

  // --- user sign-in -------------------------------------------------------------------------------

  private void signin(Session s, JsonObject d) {
    String auth = string(d, "auth", true);
    String userData = string(d, "user_data", true);
    String id = null;
    try {
      Object v = new JsonObject(userData).getValue("id");
      if (v instanceof String str && !str.isEmpty()) id = str;
    } catch (RuntimeException ignored) {
      // not JSON: refused below
    }
    if (id == null || !PusherSignatures.equal(auth, PusherSignatures.userAuth(s.app.key(), s.app.secret(), s.id, userData))) {
      s.disconnect(Disconnect.INVALID_TOKEN, id == null ? "user_data must be JSON with a non-empty string id" : "Invalid signature for pusher:signin");
      return;
    }
    PusherState st = state(s);
    st.userId = id;
    Claims c = s.claims();
    s.refreshed(new Claims(id, null, c.iat(), c.exp(), c.grants(), c.sourceType(), c.info()));
    send(s, "pusher:signin_success", null, new JsonObject().put("user_data", userData).encode());
  }

  // --- client events ------------------------------------------------------------------------------

  private void clientEvent(Session s, String event, JsonObject frame) {
    String channel = frame.getValue("channel") instanceof String c ? c : null;
    if (event.length() > 200) throw ServiceError.badRequest("event name is longer than 200 characters");
    if (!s.app.clientEvents()) {
      error(s, null, "client events are not enabled for this app");
      return;
    }
    if (channel == null || !signed(channel)) {
      error(s, null, "client events are only allowed on private and presence channels");
      return;
    }
    String name = internal(channel);
    if (!s.subscribed(name)) {
      error(s, null, "subscribe to " + channel + " before sending client events on it");
      return;
    }
    PusherState st = state(s);
    if (!st.takeClientEvent(System.currentTimeMillis())) {
      // never a 43xx close (pusher-js would not reconnect): an error, and the connection lives
      error(s, 4301, "client event rate limit of " + s.app.clientEventsPerSecond() + "/s exceeded");
      return;
    }
    Object data = frame.getValue("data");
    int size = dataString(data).length();
    if (size > s.app.maxPayloadBytes()) {
      error(s, null, "client event data is larger than " + s.app.maxPayloadBytes() + " bytes");
      return;
    }
    PusherState.PresenceUser user = st.presence.get(name);
    String sourceId = user != null ? user.userId() : st.userId;
    s.loop.ops.publish(s, s.app, new ChannelOps.PublishCommand(name, event, data, Priority.NORMAL, null, 0, false, null, null,
            s.id, sourceId))
        .onSuccess(v -> PusherWebhooks.clientEvent(s, channel, event, data, sourceId))
        .onFailure(t -> error(s, null, ServiceError.from(t, "client event").getMessage()));
  }

  // --- to the client ------------------------------------------------------------------------------

  private static void send(Session s, String event, String channel, String data) {
    JsonObject f = new JsonObject().put("event", event);
    if (channel != null) f.put("channel", channel);
    if (data != null) f.put("data", data);
    ByteBuf b = payload(f);
    s.sendPayload(b);
    b.release();
  }

  private static void error(Session s, Integer code, String message) {
    send(s, "pusher:error", null, new JsonObject().put("code", code).put("message", message).encode());
  }

  private static ByteBuf payload(JsonObject f) {
    return ((BufferInternal) f.toBuffer()).getByteBuf();
  }

  /** Publication data as Pusher's JSON-string data. */
  static String dataString(Object data) {
    if (data instanceof String str) return str;
    return io.vertx.core.json.Json.encode(data);
  }

  @Override
  public ByteBuf encodePublication(Publication p) {
    String local = App.local(p.channel());
    String channel = external(local);
    if (p.id() == null && p.event() != null && p.event().startsWith("presence.")) {
      if (!presence(local) || !(p.data() instanceof JsonObject m)) return null;
      int n = m.getInteger("subjectClients", -1);
      switch (p.event()) {
        case "presence.join" -> {
          if (n > 1) return null; // the user was a member already
          JsonObject d = new JsonObject().put("user_id", m.getString("subject")).put("user_info", m.getJsonObject("info", new JsonObject()));
          return payload(new JsonObject().put("event", "pusher_internal:member_added").put("channel", channel).put("data", d.encode()));
        }
        case "presence.leave", "presence.timeout" -> {
          if (n > 0) return null; // the user still has a connection here
          JsonObject d = new JsonObject().put("user_id", m.getString("subject"));
          return payload(new JsonObject().put("event", "pusher_internal:member_removed").put("channel", channel).put("data", d.encode()));
        }
        default -> {
          return null;
        }
      }
    }
    if (p.id() == null && "message.acked".equals(p.event())) return null;
    JsonObject f = new JsonObject().put("event", p.event()).put("channel", channel).put("data", dataString(p.data()));
    if (p.event() != null && p.event().startsWith("client-") && presence(local) && p.sourceId() != null) f.put("user_id", p.sourceId());
    return payload(f);
  }

  @Override
  public void unsubscribed(Session s, String channel, String reason) {
    error(s, null, "unsubscribed from " + external(channel) + ": " + reason);
  }

  /** Pusher's close codes: 40xx refused, 41xx reconnect after a pause, 42xx reconnect at once (see pusher-js). */
  @Override
  public int closeCode(Disconnect d) {
    return switch (d) {
      case NORMAL -> 1000;
      case GOING_AWAY, DRAINING -> 4200;
      case TOO_LARGE -> 1009;
      case BAD_FRAMING -> 1002;
      case INVALID_UTF8 -> 1007;
      case UNKNOWN_APP -> 4001;
      case CONNECTION_LIMIT -> 4004;
      case INVALID_TOKEN, FORBIDDEN, TERMINATED, PROTOCOL_VIOLATION, CONNECT_TIMEOUT -> 4009;
      case SLOW_CONSUMER -> 4100;
      case NO_PONG -> 4201;
      case TOKEN_EXPIRED -> 4200;
    };
  }

  @Override
  public ByteBuf goodbye(Disconnect d, int code, String text) {
    return payload(new JsonObject().put("event", "pusher:error")
        .put("data", new JsonObject().put("code", code).put("message", text).encode()));
  }

  @Override
  public long pingIntervalMs(GatewayConfig cfg) {
    return cfg.pingIntervalMs();
  }

  /** pusher-js answers pusher:ping with pusher:pong (its WebSocket transport does not do control-frame pings). */
  @Override
  public void ping(Session s) {
    send(s, "pusher:ping", null, "{}");
  }

  @Override
  public boolean ownPresenceEvents() {
    return false;
  }

  @Override
  public String presenceSubject(Session s, String channel) {
    PusherState.PresenceUser u = state(s).presence.get(App.local(channel));
    return u != null ? u.userId() : s.subject();
  }

  @Override
  public JsonObject presenceInfo(Session s, String channel) {
    PusherState.PresenceUser u = state(s).presence.get(App.local(channel));
    return u != null ? u.userInfo() : s.claims().info();
  }
}
