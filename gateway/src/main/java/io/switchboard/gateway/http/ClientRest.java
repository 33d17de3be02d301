package io.switchboard.gateway.http;

import io.switchboard.common.Addresses;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.ServiceError;
import io.switchboard.common.App;
import io.switchboard.gateway.core.ChannelAccess;
import io.switchboard.gateway.core.ChannelOps;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Params;
import io.switchboard.gateway.protocol.nativev1.NativeRequests;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.List;

/**
 * REST for clients: the native requests over HTTP with a bearer token, the same grants and limits as WebSocket.
 * Every operation goes through the core's {@link ChannelOps} (and so the one {@link ChannelAccess} decision) with a
 * {@link TokenCaller} built from the verified token.
 */
final class ClientRest {
  private final GatewayLoop loop;
  private final SubjectBuckets buckets;
  private final long presenceTimeoutSeconds;

  ClientRest(GatewayLoop loop, SubjectBuckets buckets, long presenceTimeoutSeconds) {
    this.loop = loop;
    this.buckets = buckets;
    this.presenceTimeoutSeconds = presenceTimeoutSeconds;
  }

  void routes(Router r, BodyHandler body) {
    r.post("/v1/channels/:ch/publications").handler(body).handler(Http.answer(201, this::publish)).failureHandler(Http::failed);
    r.get("/v1/channels/:ch/history").handler(Http.answer(200, this::history)).failureHandler(Http::failed);
    r.get("/v1/channels/:ch/pending").handler(Http.answer(200, this::pending)).failureHandler(Http::failed);
    r.post("/v1/channels/:ch/acks").handler(body).handler(Http.answer(200, this::ack)).failureHandler(Http::failed);
    r.get("/v1/channels/:ch/presence").handler(Http.answer(200, this::presence)).failureHandler(Http::failed);
    r.post("/v1/presence/heartbeat").handler(body).handler(Http.answer(200, this::heartbeat)).failureHandler(Http::failed);
  }

  /** The verified caller of a request (401 without a valid token). */
  Future<TokenCaller> caller(RoutingContext ctx) {
    String token = Http.bearer(ctx.request());
    if (token == null) return Future.failedFuture(Http.noToken());
    return loop.verifier.verify(token).map(claims -> new TokenCaller(claims, buckets));
  }

  private App app() {
    return loop.apps.defaultApp();
  }

  private static String channel(RoutingContext ctx) {
    return Params.checkChannel(ctx.pathParam("ch"));
  }

  private Future<JsonObject> publish(RoutingContext ctx) {
    return caller(ctx).compose(c -> {
      JsonObject p = Http.body(ctx).put("channel", channel(ctx));
      return loop.ops.publish(c, app(), NativeRequests.publishCommand(p));
    });
  }

  /**
   * History with every filter as a query parameter: {@code since=<offset>:<epoch>}, {@code sinceTime}, {@code limit},
   * {@code reverse}, {@code priority}, {@code tags}, {@code sourceType} (comma lists), {@code unacked}.
   */
  private Future<JsonObject> history(RoutingContext ctx) {
    return caller(ctx).compose(c -> {
      MultiMap q = ctx.queryParams();
      JsonObject p = new JsonObject().put("channel", channel(ctx));
      String since = q.get("since");
      if (since != null) {
        int colon = since.indexOf(':');
        if (colon <= 0) throw ServiceError.badRequest("since must be <offset>:<epoch> (a position from a publication)");
        p.put("since", new JsonObject().put("offset", number("since offset", since.substring(0, colon))).put("epoch", since.substring(colon + 1)));
      }
      String sinceTime = q.get("sinceTime");
      if (sinceTime != null) p.put("sinceTime", sinceTime.chars().allMatch(Character::isDigit) ? (Object) number("sinceTime", sinceTime) : sinceTime);
      if (q.get("limit") != null) p.put("limit", number("limit", q.get("limit")));
      if (q.get("reverse") != null) p.put("reverse", bool("reverse", q.get("reverse")));
      JsonObject filter = new JsonObject();
      for (String f : List.of("priority", "tags", "sourceType")) {
        List<String> values = list(q.getAll(f));
        if (!values.isEmpty()) filter.put(f, new JsonArray(values));
      }
      if (q.get("unacked") != null) filter.put("unacked", bool("unacked", q.get("unacked")));
      if (!filter.isEmpty()) p.put("filter", filter);
      return loop.ops.history(c, app(), NativeRequests.historyQuery(p, loop.cfg.maxHistoryLimit()));
    });
  }

  private Future<JsonObject> pending(RoutingContext ctx) {
    return caller(ctx).compose(c -> loop.ops.pending(c, app(), channel(ctx), null, null));
  }

  private Future<JsonObject> ack(RoutingContext ctx) {
    return caller(ctx).compose(c -> {
      String channel = channel(ctx);
      List<String> ids = Params.strings(Http.body(ctx), "ids", ChannelOps.MAX_ACK_IDS, 64);
      return loop.ops.ack(c, app(), channel, ids);
    });
  }

  private Future<JsonObject> presence(RoutingContext ctx) {
    return caller(ctx).compose(c -> loop.ops.presence(c, app(), channel(ctx)));
  }

  /**
   * {@code {channels, state?}}: keeps a polling client present in channels it could subscribe to. The client is one
   * presence member per subject ({@code http-<subject>}); each heartbeat is a join, which the presence service
   * announces only the first time and which pushes the member's deadline out by {@code presence.timeoutSeconds}.
   * When heartbeats stop, the presence sweep removes it with {@code presence.timeout}, exactly like a WebSocket
   * member whose gateway stopped refreshing it.
   */
  private Future<JsonObject> heartbeat(RoutingContext ctx) {
    return caller(ctx).compose(c -> {
      JsonObject b = Http.body(ctx);
      List<String> channels = Params.strings(b, "channels", loop.cfg.maxSubscriptions(), 255);
      if (channels == null || channels.isEmpty()) throw ServiceError.badRequest("channels must be a non-empty array of channel names");
      JsonObject state = Params.object(b, "state", false);
      JsonArray scoped = new JsonArray();
      for (String ch : channels) {
        NamespaceOptions ns = loop.access.check(c, ch, ChannelAccess.Op.SUBSCRIBE);
        if (!ns.presence()) throw ServiceError.badRequest("presence is off for the namespace of " + ch);
        scoped.add(app().scope(ch));
      }
      String client = "http-" + c.subject();
      DeliveryOptions timeout = new DeliveryOptions().setSendTimeout(loop.cfg.requestTimeoutMs());
      JsonObject join = new JsonObject().put("client", client).put("subject", c.subject()).put("node", loop.node)
          .put("info", c.claims().info()).put("channels", scoped);
      Future<?> joined = loop.bus.request(Addresses.PRESENCE_JOIN, join, timeout);
      if (state != null) {
        joined = joined.compose(v -> {
          List<Future<?>> sets = new ArrayList<>();
          for (Object ch : scoped) {
            sets.add(loop.bus.request(Addresses.PRESENCE_SET_STATE,
                new JsonObject().put("channel", ch).put("client", client).put("state", state), timeout));
          }
          return Future.all(sets);
        });
      }
      return joined.recover(t -> Future.failedFuture(ServiceError.from(t, "presence service")))
          .map(v -> new JsonObject().put("client", client).put("channels", new JsonArray(channels))
              .put("timeoutSeconds", presenceTimeoutSeconds));
    });
  }

  static long number(String field, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw ServiceError.badRequest(field + " must be a whole number, not '" + io.switchboard.common.Channels.abbreviate(v) + "'");
    }
  }

  static boolean bool(String field, String v) {
    return switch (v) {
      case "true", "1", "" -> true;
      case "false", "0" -> false;
      default -> throw ServiceError.badRequest(field + " must be true or false");
    };
  }

  /** Comma lists, possibly repeated. */
  static List<String> list(List<String> values) {
    List<String> out = new ArrayList<>();
    for (String v : values) {
      for (String s : v.split(",")) {
        if (!s.isBlank()) out.add(s.trim());
      }
    }
    return out;
  }
}
