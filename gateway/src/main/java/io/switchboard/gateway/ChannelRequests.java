package io.switchboard.gateway;

import io.switchboard.common.Addresses;
import io.switchboard.common.Capability;
import io.switchboard.common.Channels;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Priority;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The channel requests of native protocol v1: publish, history, presence, presence.setState, ack, pending, and
 * application RPC. Each checks its grant and the channel's namespace options here, at the edge, then makes at most
 * one bus request.
 */
final class ChannelRequests {
  static final int MAX_TAGS = 32;
  static final int MAX_TAG_LENGTH = 64;
  static final int MAX_ACK_IDS = 1000;
  private static final Pattern RPC_METHOD = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
  private static final long MAX_TTL = 10L * 365 * 24 * 3600;

  private final NativeSession session;
  private final GatewayVerticle gw;
  private final ClientConnection c;

  ChannelRequests(NativeSession session) {
    this.session = session;
    this.gw = session.gw;
    this.c = session.c;
  }

  // --- publish: the start of the hot path ----------------------------------------------------------

  void publish(String id, JsonObject p) {
    String channel = Params.channel(p);
    String event = Params.string(p, "event", true, 128);
    String priorityName = Params.string(p, "priority", false, 16);
    Priority priority = priorityName == null ? Priority.NORMAL : Priority.parse(priorityName);
    if (priority == null) throw ServiceError.badRequest("priority must be one of critical, high, normal, low");
    List<String> tags = Params.strings(p, "tags", MAX_TAGS, MAX_TAG_LENGTH);
    int ttl = (int) Params.integer(p, "ttl", 0, 0, MAX_TTL);
    boolean requiresAck = Params.bool(p, "requiresAck", false);
    String correlationId = Params.string(p, "correlationId", false, 256);
    String idempotencyKey = Params.string(p, "idempotencyKey", false, 256);
    NamespaceOptions ns = options(channel);
    if (!ns.clientPublish()) {
      throw new ServiceError(ErrorCode.PERMISSION_DENIED, "clients may not publish in namespace '" + Channels.namespace(channel) + "'");
    }
    requireGrant(channel, Capability.PUBLISH);
    long now = System.currentTimeMillis();
    long wait = c.takePublishToken(now, gw.cfg.publishRatePerSecond(), gw.cfg.publishBurst());
    if (wait > 0) {
      throw new ServiceError(ErrorCode.RATE_LIMITED, "publish rate limit of " + (long) gw.cfg.publishRatePerSecond()
          + "/s per connection exceeded", new JsonObject().put("retryAfterMs", wait));
    }
    // the source is stamped from the verified token; anything the client says about it is ignored
    Publication pub = new Publication(null, channel, 0, null, now, event, p.getValue("data"), c.claims.sourceType(),
        c.subject(), priority, tags, ttl, requiresAck, correlationId);
    gw.metrics.publishes.increment();
    if (ns.ephemeral()) {
      if (requiresAck || idempotencyKey != null) {
        throw ServiceError.badRequest((requiresAck ? "requiresAck" : "idempotencyKey") + " needs a channel with history; namespace '"
            + Channels.namespace(channel) + "' is ephemeral");
      }
      Publication sent = pub.withPosition(Ids.ulid(now), 0, null, now);
      gw.fanout.publish(sent);
      session.reply(id, new JsonObject().put("id", sent.id()).put("timestamp", Instant.ofEpochMilli(now).toString()));
      return;
    }
    JsonObject req = new JsonObject().put("publication", pub.toJson());
    if (idempotencyKey != null) req.put("idempotencyKey", idempotencyKey);
    session.replyWith(id, gw.bus.<JsonObject>request(Addresses.STORE_APPEND, req, timeout()).map(m -> {
      JsonObject r = m.body();
      r.remove("duplicate");
      return r;
    }), "message store");
  }

  // --- reads ---------------------------------------------------------------------------------------

  void history(String id, JsonObject p) {
    String channel = Params.channel(p);
    NamespaceOptions ns = options(channel);
    requireGrant(channel, Capability.HISTORY);
    JsonObject q = new JsonObject().put("channel", channel).put("subject", c.subject());
    JsonObject since = Params.object(p, "since", false);
    if (since != null) {
      if (!since.containsKey("offset")) throw ServiceError.badRequest("since.offset is required");
      q.put("since", new JsonObject()
          .put("offset", Params.integer(since, "offset", 0, 0, Long.MAX_VALUE))
          .put("epoch", Params.string(since, "epoch", true, 64)));
    }
    Object sinceTime = p.getValue("sinceTime");
    if (sinceTime != null) q.put("sinceTime", epochMillis(sinceTime));
    q.put("limit", Params.integer(p, "limit", gw.cfg.maxHistoryLimit(), 1, gw.cfg.maxHistoryLimit()));
    q.put("reverse", Params.bool(p, "reverse", false));
    JsonObject filter = Params.object(p, "filter", false);
    if (filter != null) q.put("filter", checkFilter(filter));
    if (ns.ephemeral()) {
      session.reply(id, new JsonObject().put("publications", new JsonArray()).put("offset", 0));
      return;
    }
    session.replyWith(id, gw.bus.<JsonObject>request(Addresses.STORE_HISTORY, q, timeout()).map(m -> m.body()), "message store");
  }

  private static JsonObject checkFilter(JsonObject f) {
    JsonObject out = new JsonObject();
    List<String> priorities = Params.strings(f, "priority", 4, 16);
    if (priorities != null) {
      for (String s : priorities) {
        if (Priority.parse(s) == null) throw ServiceError.badRequest("filter.priority has '" + s + "', not one of critical, high, normal, low");
      }
      out.put("priority", new JsonArray(priorities));
    }
    List<String> tags = Params.strings(f, "tags", MAX_TAGS, MAX_TAG_LENGTH);
    if (tags != null) out.put("tags", new JsonArray(tags));
    List<String> sourceTypes = Params.strings(f, "sourceType", 16, 64);
    if (sourceTypes != null) out.put("sourceType", new JsonArray(sourceTypes));
    if (Params.bool(f, "unacked", false)) out.put("unacked", true);
    return out;
  }

  private static long epochMillis(Object v) {
    if (v instanceof Number n) return n.longValue();
    if (v instanceof String s) {
      try {
        return Instant.parse(s).toEpochMilli();
      } catch (DateTimeParseException e) {
        throw ServiceError.badRequest("sinceTime must be an ISO-8601 instant (e.g. 2026-11-21T10:30:00Z) or epoch milliseconds");
      }
    }
    throw ServiceError.badRequest("sinceTime must be an ISO-8601 instant or epoch milliseconds");
  }

  void presence(String id, JsonObject p) {
    String channel = Params.channel(p);
    requirePresenceOn(channel);
    requireGrant(channel, Capability.PRESENCE);
    session.replyWith(id, gw.bus.<JsonObject>request(Addresses.PRESENCE_QUERY, new JsonObject().put("channel", channel), timeout())
        .map(m -> m.body()), "presence service");
  }

  void setState(String id, JsonObject p) {
    String channel = Params.channel(p);
    JsonObject state = Params.object(p, "state", true);
    requirePresenceOn(channel);
    requireSubscribed(channel, "set presence state on");
    JsonObject req = new JsonObject().put("channel", channel).put("client", c.id).put("state", state);
    session.replyWith(id, gw.bus.<JsonObject>request(Addresses.PRESENCE_SET_STATE, req, timeout())
        .map(m -> new JsonObject()), "presence service");
  }

  // --- acks ----------------------------------------------------------------------------------------

  void ack(String id, JsonObject p) {
    String channel = Params.channel(p);
    List<String> ids = Params.strings(p, "ids", MAX_ACK_IDS, 64);
    if (ids == null || ids.isEmpty()) throw ServiceError.badRequest("ids must be a non-empty array of publication ids");
    requireSubscribed(channel, "ack on");
    if (options(channel).ephemeral()) {
      session.reply(id, new JsonObject().put("acked", new JsonArray()));
      return;
    }
    JsonObject req = new JsonObject().put("channel", channel).put("ids", new JsonArray(ids)).put("subject", c.subject());
    session.replyWith(id, gw.bus.<JsonObject>request(Addresses.STORE_ACK, req, timeout()).map(m -> m.body()), "message store");
  }

  void pending(String id, JsonObject p) {
    String channel = Params.channel(p);
    NamespaceOptions ns = options(channel);
    boolean own = Channels.isPersonal(channel) && channel.equals(Channels.personal(c.subject()));
    if (!own && !c.claims.grants().allows(channel, Capability.SUBSCRIBE) && !c.claims.grants().allows(channel, Capability.HISTORY)) {
      throw new ServiceError(ErrorCode.PERMISSION_DENIED, "no subscribe or history grant for " + channel);
    }
    if (ns.ephemeral()) {
      session.reply(id, new JsonObject().put("publications", new JsonArray()));
      return;
    }
    JsonObject req = new JsonObject().put("channel", channel).put("subject", c.subject());
    session.replyWith(id, gw.bus.<JsonObject>request(Addresses.STORE_PENDING, req, timeout()).map(m -> m.body()), "message store");
  }

  // --- application RPC -----------------------------------------------------------------------------

  void rpc(String id, String method, JsonObject params) {
    if (!RPC_METHOD.matcher(method).matches()) {
      throw ServiceError.badRequest("method '" + Channels.abbreviate(method) + "' is not a valid method name ([A-Za-z0-9_.-], 1-64 chars)");
    }
    JsonObject req = new JsonObject().put("method", method).put("client", c.id).put("subject", c.subject())
        .put("sourceType", c.claims.sourceType()).put("params", params);
    gw.bus.request(Addresses.rpc(method), req, timeout()).onComplete(ar -> {
      if (ar.succeeded()) {
        session.reply(id, ar.result().body());
      } else if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
        session.reply(id, new ServiceError(ErrorCode.METHOD_NOT_FOUND, "unknown method '" + method + "'"));
      } else {
        session.reply(id, ServiceError.from(ar.cause(), "rpc handler for " + method));
      }
    });
  }

  // --- checks --------------------------------------------------------------------------------------

  private NamespaceOptions options(String channel) {
    NamespaceOptions o = gw.cfg.namespaces().of(channel);
    if (o == null) throw new ServiceError(ErrorCode.UNKNOWN_CHANNEL, "unknown namespace '" + Channels.namespace(channel) + "'");
    return o;
  }

  private void requirePresenceOn(String channel) {
    if (!options(channel).presence()) {
      throw ServiceError.badRequest("presence is off for namespace '" + Channels.namespace(channel) + "'");
    }
  }

  private void requireGrant(String channel, Capability cap) {
    if (!c.claims.grants().allows(channel, cap)) {
      throw new ServiceError(ErrorCode.PERMISSION_DENIED, "no " + cap.wire() + " grant for " + channel);
    }
  }

  private void requireSubscribed(String channel, String what) {
    if (!c.subscriptions.containsKey(channel)) {
      throw new ServiceError(ErrorCode.NOT_SUBSCRIBED, "only a subscriber of " + channel + " may " + what + " it");
    }
  }

  private DeliveryOptions timeout() {
    return new DeliveryOptions().setSendTimeout(gw.cfg.requestTimeoutMs());
  }
}
