package io.switchboard.gateway.core;

import io.switchboard.common.App;
import io.switchboard.common.Addresses;
import io.switchboard.common.Channels;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Priority;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The channel operations every dialect and HTTP API share: publish, history, presence, presence state, ack, pending
 * and application RPC. Each takes a typed command from a {@link Caller} in an {@link App}, asks the one
 * {@link ChannelAccess} decision, then makes at most one bus request. Results are the services' answers with
 * app-local channel names; failures are {@link ServiceError}s (never thrown: always a failed future).
 */
public final class ChannelOps {
  public static final int MAX_ACK_IDS = 1000;
  private static final Pattern RPC_METHOD = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");

  /**
   * A publication as a caller asks for it; the server adds id, position, time and source. {@code meta}: publisher
   * metadata stored and delivered with it (PubNub's publish meta); {@code unstored}: deliver live only, never append
   * to history (PubNub's {@code store=0}: an ephemeral publication, like one on a history-0 namespace).
   */
  public record PublishCommand(String channel, String event, Object data, Priority priority, List<String> tags, int ttl,
      boolean requiresAck, String correlationId, String idempotencyKey, String exclude, String sourceId, JsonObject meta,
      boolean unstored) {
    public PublishCommand(String channel, String event, Object data, Priority priority, List<String> tags, int ttl,
        boolean requiresAck, String correlationId, String idempotencyKey, String exclude, String sourceId) {
      this(channel, event, data, priority, tags, ttl, requiresAck, correlationId, idempotencyKey, exclude, sourceId, null, false);
    }

    /** A client's publication: delivered to everyone, the source stamped from the caller. */
    public PublishCommand(String channel, String event, Object data, Priority priority, List<String> tags, int ttl,
        boolean requiresAck, String correlationId, String idempotencyKey) {
      this(channel, event, data, priority, tags, ttl, requiresAck, correlationId, idempotencyKey, null, null);
    }
  }

  /** A history read: at most one of since (offset+epoch) and sinceTime; filter as the store takes it. */
  public record HistoryQuery(String channel, Long sinceOffset, String sinceEpoch, Long sinceTime, int limit,
      boolean reverse, JsonObject filter) {}

  private final GatewayLoop loop;
  private final AppendBatcher appends;

  ChannelOps(GatewayLoop loop) {
    this.loop = loop;
    this.appends = new AppendBatcher(loop);
  }

  /** {@link #guarded(Supplier)} for a client command, timed until its answer (switchboard_client_command_duration_seconds). */
  private <T> Future<T> guarded(GatewayMetrics.Command command, Supplier<Future<T>> step) {
    return loop.metrics.timed(command, System.nanoTime(), guarded(step));
  }

  /** Runs a check-then-request step, turning a thrown ServiceError into a failed future. */
  private static <T> Future<T> guarded(Supplier<Future<T>> step) {
    try {
      return step.get();
    } catch (ServiceError e) {
      return Future.failedFuture(e);
    }
  }

  // --- publish: the start of the hot path ----------------------------------------------------------

  /** Publishes; the result is {@code {id, offset, epoch, timestamp}} (no offset on ephemeral channels). */
  public Future<JsonObject> publish(Caller c, App app, PublishCommand cmd) {
    return guarded(GatewayMetrics.Command.PUBLISH, () -> {
      NamespaceOptions ns = loop.access.check(c, cmd.channel(), ChannelAccess.Op.PUBLISH);
      long now = System.currentTimeMillis();
      long wait = c.takePublishToken(now);
      if (wait > 0) {
        throw new ServiceError(ErrorCode.RATE_LIMITED, "publish rate limit of " + (long) loop.cfg.publishRatePerSecond()
            + "/s per connection exceeded", new JsonObject().put("retryAfterMs", wait));
      }
      if (ns.ephemeral() && (cmd.requiresAck() || cmd.idempotencyKey() != null)) {
        throw ServiceError.badRequest((cmd.requiresAck() ? "requiresAck" : "idempotencyKey") + " needs a channel with history; namespace '"
            + Channels.namespace(cmd.channel()) + "' is ephemeral");
      }
      Future<Object> checked = c.server() ? null : loop.backend.publish(c, app, cmd);
      if (checked != null) {
        // the app backend's publish proxy validates (and may rewrite) the data before it is stored
        return checked.compose(data -> store(c, app, cmd, ns, data));
      }
      return store(c, app, cmd, ns, cmd.data());
    });
  }

  private Future<JsonObject> store(Caller c, App app, PublishCommand cmd, NamespaceOptions ns, Object data) {
    return guarded(() -> {
      long now = System.currentTimeMillis();
      // the source is stamped from the verified credentials; anything the client says about it is ignored
      // sourceId: only a dialect sets it, from a credential it verified (a Pusher presence user_id from signed channel_data)
      Publication pub = new Publication(null, app.scope(cmd.channel()), 0, null, now, cmd.event(), data, c.sourceType(),
          cmd.sourceId() != null ? cmd.sourceId() : c.subject(), cmd.priority() == null ? Priority.NORMAL : cmd.priority(),
          cmd.tags(), cmd.ttl(), cmd.requiresAck(), cmd.correlationId(), cmd.exclude(), cmd.meta());
      if (cmd.unstored() && !ns.ephemeral() && ns.publishRatePerSecond() > 0) {
        // the channel's rate is counted where publications are appended: an unstored one would go around it
        throw ServiceError.badRequest("publications on " + cmd.channel() + " must be stored: its namespace limits publishes to "
            + ns.publishRatePerSecond() + "/s per channel");
      }
      loop.metrics.publishes.increment();
      if (ns.ephemeral() || cmd.unstored()) {
        Publication sent = pub.withPosition(Ids.ulid(now), 0, null, now);
        loop.fanout.publish(sent);
        return Future.succeededFuture(new JsonObject().put("id", sent.id()).put("timestamp", Publication.isoTimestamp(now)));
      }
      JsonObject req = new JsonObject().put("publication", pub.toJson());
      if (cmd.idempotencyKey() != null) req.put("idempotencyKey", cmd.idempotencyKey());
      if (cmd.exclude() != null) req.put("exclude", cmd.exclude());
      // the appends of one event-loop turn travel as one bus request (AppendBatcher), each with its own answer
      return appends.append(req).map(r -> {
        r.remove("duplicate");
        return r;
      }).recover(t -> failed(t, "message store"));
    });
  }

  // --- reads ---------------------------------------------------------------------------------------

  public Future<JsonObject> history(Caller c, App app, HistoryQuery q) {
    return guarded(GatewayMetrics.Command.HISTORY, () -> {
      NamespaceOptions ns = loop.access.check(c, q.channel(), ChannelAccess.Op.HISTORY);
      if (ns.ephemeral()) return Future.succeededFuture(new JsonObject().put("publications", new JsonArray()).put("offset", 0));
      JsonObject req = new JsonObject().put("channel", app.scope(q.channel())).put("subject", c.subject());
      if (q.sinceOffset() != null) req.put("since", new JsonObject().put("offset", q.sinceOffset()).put("epoch", q.sinceEpoch()));
      if (q.sinceTime() != null) req.put("sinceTime", q.sinceTime());
      req.put("limit", q.limit()).put("reverse", q.reverse());
      if (q.filter() != null) req.put("filter", q.filter());
      return loop.<JsonObject>request(Addresses.STORE_HISTORY, req, loop.timeout())
          .map(m -> unscoped(app, m.body())).recover(t -> failed(t, "message store"));
    });
  }

  /**
   * The stored publication at a channel's position, for a session just subscribed to it (its subscription was the
   * access decision): Pusher's cache channels replay it. Null when there is none.
   */
  public Future<Publication> publicationAt(Session s, String channel, long offset, String epoch) {
    if (!s.subscribed(channel) || offset <= 0) return Future.succeededFuture(null);
    JsonObject req = new JsonObject().put("channel", s.app.scope(channel)).put("since", new JsonObject().put("offset", offset - 1)
        .put("epoch", epoch)).put("limit", 1);
    return loop.<JsonObject>request(Addresses.STORE_HISTORY, req, loop.timeout()).map(m -> {
      JsonArray pubs = m.body().getJsonArray("publications", new JsonArray());
      return pubs.isEmpty() ? null : Publication.fromJson(pubs.getJsonObject(0));
    });
  }

  public Future<JsonObject> presence(Caller c, App app, String channel) {
    return guarded(GatewayMetrics.Command.PRESENCE, () -> {
      loop.access.check(c, channel, ChannelAccess.Op.PRESENCE);
      return loop.<JsonObject>request(Addresses.PRESENCE_QUERY, new JsonObject().put("channel", app.scope(channel)), loop.timeout())
          .map(m -> m.body()).recover(t -> failed(t, "presence service"));
    });
  }

  public Future<JsonObject> setState(Caller c, App app, String channel, JsonObject state) {
    return guarded(GatewayMetrics.Command.PRESENCE_STATE, () -> {
      loop.access.check(c, channel, ChannelAccess.Op.PRESENCE_STATE);
      JsonObject req = new JsonObject().put("channel", app.scope(channel)).put("client", c.clientId()).put("state", state);
      return loop.<JsonObject>request(Addresses.PRESENCE_SET_STATE, req, loop.timeout())
          .map(m -> new JsonObject()).recover(t -> failed(t, "presence service"));
    });
  }

  // --- acks ----------------------------------------------------------------------------------------

  public Future<JsonObject> ack(Caller c, App app, String channel, List<String> ids) {
    return guarded(GatewayMetrics.Command.ACK, () -> {
      if (ids == null || ids.isEmpty()) throw ServiceError.badRequest("ids must be a non-empty array of publication ids");
      if (ids.size() > MAX_ACK_IDS) throw ServiceError.badRequest("at most " + MAX_ACK_IDS + " ids per ack");
      NamespaceOptions ns = loop.access.check(c, channel, ChannelAccess.Op.ACK);
      if (ns.ephemeral()) return Future.succeededFuture(new JsonObject().put("acked", new JsonArray()));
      JsonObject req = new JsonObject().put("channel", app.scope(channel)).put("ids", new JsonArray(ids)).put("subject", c.subject());
      return loop.<JsonObject>request(Addresses.STORE_ACK, req, loop.timeout()).map(m -> m.body())
          .recover(t -> failed(t, "message store"));
    });
  }

  /** The caller's publications awaiting its ack, after {@code since} (a page's {@code next}) when given. */
  public Future<JsonObject> pending(Caller c, App app, String channel, Long sinceOffset, String sinceEpoch) {
    return guarded(GatewayMetrics.Command.PENDING, () -> {
      NamespaceOptions ns = loop.access.check(c, channel, ChannelAccess.Op.PENDING);
      if (ns.ephemeral()) return Future.succeededFuture(new JsonObject().put("publications", new JsonArray()));
      JsonObject req = new JsonObject().put("channel", app.scope(channel)).put("subject", c.subject());
      if (sinceOffset != null) req.put("since", new JsonObject().put("offset", sinceOffset).put("epoch", sinceEpoch));
      return loop.<JsonObject>request(Addresses.STORE_PENDING, req, loop.timeout())
          .map(m -> unscoped(app, m.body())).recover(t -> failed(t, "message store"));
    });
  }

  // --- application RPC -----------------------------------------------------------------------------

  /** Forwards a method the gateway does not know to the app's handler at {@code rpc.<method>}. */
  public Future<Object> rpc(Caller c, App app, String method, JsonObject params) {
    return guarded(GatewayMetrics.Command.RPC, () -> {
      if (!RPC_METHOD.matcher(method).matches()) {
        throw ServiceError.badRequest("method '" + Channels.abbreviate(method) + "' is not a valid method name ([A-Za-z0-9_.-], 1-64 chars)");
      }
      JsonObject req = new JsonObject().put("method", method).put("client", c.clientId()).put("subject", c.subject())
          .put("sourceType", c.sourceType()).put("params", params);
      if (!app.isDefault()) req.put("app", app.id());
      return loop.bus.request(Addresses.rpc(method), req, loop.timeout()).map(m -> m.body()).recover(t -> {
        if (t instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
          // no handler on the bus: the app backend's rpc proxy, if there is one
          Future<Object> proxied = loop.backend.rpc(c, app, method, params);
          if (proxied != null) return proxied;
          return Future.failedFuture(new ServiceError(ErrorCode.METHOD_NOT_FOUND, "unknown method '" + method + "'"));
        }
        return failed(t, "rpc handler for " + method);
      });
    });
  }

  private static <T> Future<T> failed(Throwable t, String what) {
    return Future.failedFuture(ServiceError.from(t, what));
  }

  /** Store answers name channels by their scoped names: show the app's own names. */
  private static JsonObject unscoped(App app, JsonObject answer) {
    if (app.isDefault()) return answer;
    JsonArray pubs = answer.getJsonArray("publications");
    if (pubs != null) {
      for (Object o : pubs) {
        if (o instanceof JsonObject p && p.getString("channel") != null) p.put("channel", App.local(p.getString("channel")));
      }
    }
    return answer;
  }
}
