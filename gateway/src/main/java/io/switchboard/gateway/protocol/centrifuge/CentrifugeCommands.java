package io.switchboard.gateway.protocol.centrifuge;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Priority;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.core.ChannelOps;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.Params;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.Subscriptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The Centrifuge commands after connect, read into the core's typed operations (every channel operation goes through
 * {@code ChannelOps}/{@code Subscriptions}, hence the one ChannelAccess decision) and answered in Centrifuge's shapes.
 */
final class CentrifugeCommands {
  /** The methods of protocol v2, in the order a command's fields are looked at. */
  private static final List<String> METHODS = List.of("connect", "subscribe", "unsubscribe", "publish", "presence",
      "presence_stats", "history", "rpc", "send", "refresh", "sub_refresh");
  /** The event name of a publication a Centrifuge client publishes (Centrifuge publications have none). */
  static final String PUBLISH_EVENT = "message";

  private final CentrifugeDialect dialect;

  CentrifugeCommands(CentrifugeDialect dialect) {
    this.dialect = dialect;
  }

  /** The command's method: its first field that names one (Centrifuge: the first non-null request wins). */
  static String method(JsonObject cmd) {
    for (String m : METHODS) {
      if (cmd.getValue(m) != null) return m;
    }
    return null;
  }

  void run(Session s, long id, String method, JsonObject req) {
    switch (method) {
      case "subscribe" -> subscribe(s, id, req);
      case "unsubscribe" -> unsubscribe(s, id, req);
      case "publish" -> answer(s, id, "publish", publish(s, req), r -> new JsonObject());
      case "presence" -> answer(s, id, "presence", presenceOf(s, Params.channel(req)), CentrifugeCommands::presence);
      case "presence_stats" -> answer(s, id, "presence_stats", presenceOf(s, Params.channel(req)), CentrifugeCommands::presenceStats);
      case "history" -> history(s, id, req);
      case "rpc" -> rpc(s, id, req);
      case "send" -> send(s, req);
      case "refresh" -> dialect.refresh(s, id, req);
      case "sub_refresh" -> subRefresh(s, id, req);
      default -> throw ServiceError.badRequest("unknown method " + method);
    }
  }

  private static ChannelOps ops(Session s) {
    return s.loop.ops;
  }

  private static <T> void answer(Session s, long id, String method, Future<T> f, Function<T, JsonObject> shape) {
    f.onComplete(ar -> {
      if (ar.succeeded()) {
        CentrifugeDialect.send(s, CentrifugeFrames.reply(id, method, shape.apply(ar.result())));
      } else if (ar.cause() instanceof NotAvailable na) {
        CentrifugeDialect.send(s, CentrifugeFrames.error(id, CentrifugeCodes.NOT_AVAILABLE, na.getMessage(), false));
      } else {
        CentrifugeDialect.replyError(s, id, ServiceError.from(ar.cause(), method));
      }
    });
  }

  // --- subscribe ----------------------------------------------------------------------------------

  private void subscribe(Session s, long id, JsonObject req) {
    String channel = Params.channel(req);
    String delta = Params.string(req, "delta", false, 16);
    if (delta != null && !delta.isEmpty() && !delta.equals("fossil")) {
      throw ServiceError.badRequest("delta '" + delta + "' is not supported (only fossil)");
    }
    boolean joinLeave = Params.bool(req, "join_leave", false);
    boolean recover = Params.bool(req, "recover", false);
    Subscriptions.Request r;
    if (recover) {
      long offset = Params.integer(req, "offset", 0, 0, Long.MAX_VALUE);
      String epoch = Params.string(req, "epoch", false, 64);
      r = new Subscriptions.Request(channel, offset, epoch == null ? "" : epoch);
    } else {
      r = new Subscriptions.Request(channel, null, null);
    }
    // a subscription token is not needed: the connection token's grants decide (the field is accepted and unused)
    Params.string(req, "token", false, 16 * 1024);
    s.loop.subscriptions.subscribe(s, List.of(r)).onComplete(ar -> {
      Subscriptions.Established est = ar.result(); // never fails: errors are per channel
      Subscriptions.Outcome o = est.outcomes().get(0);
      if (!o.ok()) {
        CentrifugeDialect.replyError(s, id, o.error());
        return;
      }
      boolean deltaOn = "fossil".equals(delta) && o.stored();
      CentrifugeSession.Sub sub = new CentrifugeSession.Sub(deltaOn, joinLeave);
      String scoped = s.app.scope(channel);
      CentrifugeDialect.state(s).add(scoped, sub);
      if (deltaOn) dialect.deltas.added(scoped);
      JsonObject result = subscribeResult(s, o, est, recover, sub);
      if (deltaOn) result.put("delta", true);
      CentrifugeDialect.send(s, CentrifugeFrames.reply(id, "subscribe", result));
      s.loop.subscriptions.goLive(s, est, false);
    });
  }

  /**
   * A SubscribeResult: the position of a stored channel (every stored channel is positioned; recoverable when its
   * namespace allows recovery) and, when recovering, the outcome and the missed publications — full ones (the
   * fossil chain restarts after them).
   */
  JsonObject subscribeResult(Session s, Subscriptions.Outcome o, Subscriptions.Established est, boolean recovering,
      CentrifugeSession.Sub sub) {
    JsonObject result = new JsonObject();
    if (!o.stored()) return result;
    NamespaceOptions ns = s.loop.cfg.namespaces().of(o.channel());
    boolean recoverable = ns != null && ns.recovery();
    if (recoverable) result.put("recoverable", true);
    result.put("epoch", o.epoch()).put("offset", o.offset()).put("positioned", true);
    if (recovering) {
      boolean recovered = Boolean.TRUE.equals(o.recovered());
      result.put("was_recovering", true).put("recovered", recovered);
      List<Publication> pubs = s.loop.subscriptions.recovered(s, est, o.channel());
      if (!pubs.isEmpty()) {
        boolean delta = sub != null && sub.delta;
        result.put("publications", CentrifugeFrames.publications(pubs, delta ? CentrifugeFrames.FULL_STRING : CentrifugeFrames.PLAIN));
        if (sub != null) {
          Publication last = pubs.get(pubs.size() - 1);
          sub.lastOffset = last.offset();
          sub.lastEpoch = last.epoch();
          // the channel's state may know nothing newer (no delta subscriber here while this one was away): the next
          // publication can then be a delta against the last recovered one
          if (delta) dialect.deltas.see(last);
        }
      }
    }
    return result;
  }

  private void unsubscribe(Session s, long id, JsonObject req) {
    String channel = Params.channel(req);
    // unsubscribing from a channel one is not subscribed to is not an error in Centrifuge
    s.loop.subscriptions.unsubscribe(s, List.of(channel));
    forget(s, s.app.scope(channel));
    CentrifugeDialect.send(s, CentrifugeFrames.reply(id, "unsubscribe", new JsonObject()));
  }

  /** Drops the dialect's state of a subscription that ended. */
  void forget(Session s, String scoped) {
    CentrifugeSession.Sub sub = CentrifugeDialect.state(s).remove(scoped);
    if (sub != null && sub.delta) dialect.deltas.removed(scoped);
  }

  private void subRefresh(Session s, long id, JsonObject req) {
    String channel = Params.channel(req);
    if (!s.subscribed(s.app.scope(channel))) throw new ServiceError(ErrorCode.PERMISSION_DENIED, "not subscribed to " + channel);
    // subscriptions have no tokens of their own here (the connection's grants decide): nothing expires
    CentrifugeDialect.send(s, CentrifugeFrames.reply(id, "sub_refresh", new JsonObject()));
  }

  // --- publish, presence, history -----------------------------------------------------------------

  private static Future<JsonObject> publish(Session s, JsonObject req) {
    String channel = Params.channel(req);
    if (!req.containsKey("data")) throw ServiceError.badRequest("data is required");
    return s.loop.ops.publish(s, s.app, new ChannelOps.PublishCommand(channel, PUBLISH_EVENT, req.getValue("data"),
        Priority.NORMAL, null, 0, false, null, null));
  }

  /**
   * The presence query; in a namespace without presence the core's refusal (after the access decision) becomes
   * Centrifuge's 108 not available.
   */
  private static Future<JsonObject> presenceOf(Session s, String channel) {
    return s.loop.ops.presence(s, s.app, channel).recover(t -> {
      NamespaceOptions ns = s.loop.cfg.namespaces().of(channel);
      if (t instanceof ServiceError e && e.code() == ErrorCode.BAD_REQUEST && ns != null && !ns.presence()) {
        return Future.failedFuture(new NotAvailable(e.getMessage()));
      }
      return Future.failedFuture(t);
    });
  }

  /** A refusal Centrifuge answers with 108 (not available): the feature is off for the channel. */
  static final class NotAvailable extends RuntimeException {
    NotAvailable(String message) {
      super(message, null, false, false);
    }
  }

  /** {@code {presence: {clientId: {user, client, conn_info}}}} from the presence service's members. */
  static JsonObject presence(JsonObject answer) {
    JsonObject byClient = new JsonObject();
    for (Object o : answer.getJsonArray("members", new JsonArray())) {
      if (o instanceof JsonObject m) byClient.put(m.getString("client", ""), CentrifugeFrames.clientInfo(m));
    }
    return new JsonObject().put("presence", byClient);
  }

  static JsonObject presenceStats(JsonObject answer) {
    JsonArray members = answer.getJsonArray("members", new JsonArray());
    Set<String> users = new HashSet<>();
    for (Object o : members) {
      if (o instanceof JsonObject m) users.add(m.getString("subject", ""));
    }
    return new JsonObject().put("num_clients", members.size()).put("num_users", users.size());
  }

  /** History: {@code limit} 0 (or absent) gives only the stream's top position, a negative one as many as allowed. */
  private static void history(Session s, long id, JsonObject req) {
    String channel = Params.channel(req);
    int max = s.loop.cfg.maxHistoryLimit();
    long limit = Params.integer(req, "limit", 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
    boolean positionOnly = limit == 0;
    int asked = limit < 0 ? max : (int) Math.min(Math.max(limit, 1), max);
    Long sinceOffset = null;
    String sinceEpoch = null;
    JsonObject since = Params.object(req, "since", false);
    if (since != null) {
      sinceOffset = Params.integer(since, "offset", 0, 0, Long.MAX_VALUE);
      String epoch = Params.string(since, "epoch", false, 64);
      sinceEpoch = epoch == null ? "" : epoch;
    }
    boolean reverse = Params.bool(req, "reverse", false);
    Future<JsonObject> f = s.loop.ops.history(s, s.app,
        new ChannelOps.HistoryQuery(channel, sinceOffset, sinceEpoch, null, asked, reverse, null));
    answer(s, id, "history", f, h -> {
      List<Publication> pubs = new ArrayList<>();
      if (!positionOnly) {
        for (Object o : h.getJsonArray("publications", new JsonArray())) pubs.add(Publication.fromJson((JsonObject) o));
      }
      return new JsonObject()
          .put("publications", CentrifugeFrames.publications(pubs, CentrifugeFrames.PLAIN))
          .put("epoch", h.getString("epoch", ""))
          .put("offset", h.getLong("offset", 0L));
    });
  }

  // --- rpc and send -------------------------------------------------------------------------------

  private static void rpc(Session s, long id, JsonObject req) {
    String method = Params.string(req, "method", false, 64);
    Object data = req.getValue("data");
    if (data != null && !(data instanceof JsonObject)) throw ServiceError.badRequest("rpc data must be a JSON object");
    JsonObject params = data == null ? new JsonObject() : (JsonObject) data;
    answer(s, id, "rpc", s.loop.ops.rpc(s, s.app, method == null ? "" : method, params), r -> {
      JsonObject result = new JsonObject();
      if (r != null) result.put("data", r);
      return result;
    });
  }

  /**
   * {@code send}: an asynchronous message to the app, delivered to its RPC handler {@code send} (its answer is
   * dropped). With no handler the connection closes with 3508 (not available), as Centrifuge does.
   */
  private void send(Session s, JsonObject req) {
    Object data = req.getValue("data");
    JsonObject params = data instanceof JsonObject o ? o : new JsonObject().put("data", data);
    s.loop.ops.rpc(s, s.app, "send", params).onFailure(t -> {
      ServiceError e = ServiceError.from(t, "send");
      if (e.code() == ErrorCode.METHOD_NOT_FOUND) {
        dialect.disconnect(s, Disconnect.PROTOCOL_VIOLATION, CentrifugeCodes.NOT_AVAILABLE_DISCONNECT, "send is not available");
      }
    });
  }
}
