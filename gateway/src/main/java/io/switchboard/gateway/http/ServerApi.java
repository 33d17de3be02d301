package io.switchboard.gateway.http;

import io.switchboard.common.Addresses;
import io.switchboard.common.Capability;
import io.switchboard.common.Channels;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Grants;
import io.switchboard.common.ServiceError;
import io.switchboard.common.App;
import io.switchboard.gateway.core.Caller;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Params;
import io.switchboard.gateway.protocol.nativev1.NativeRequests;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The server API for backends: {@code POST /api/<command>} with a JSON body, authenticated with an API key that has
 * a server capability (the admin key, or an API key with {@code server} grants, limited to the channels they match)
 * — never a client token. A request acts on one app: the one its {@code X-Switchboard-App} header names (an app id),
 * the default app without it. The admin key may act on any app; an API key (not bound to an app) on the default app
 * only. Channel names are the app's own: scoped with {@code app.scope(channel)} on the bus and in storage, exactly as
 * the Pusher HTTP API does for its app. Keys are checked by the auth-service over the bus, so this works on any gateway node.
 * Channel operations run through the core's ChannelOps as a server {@link Caller}; commands about users' live
 * sessions are broadcast to every gateway event loop of the cluster ({@link Addresses#GATEWAY_API}).
 */
final class ServerApi {
  static final int MAX_BATCH = 100;
  static final int MAX_BROADCAST = 1000;
  /** How long a gather (channels, info) waits for more event loops once answers stop coming. */
  static final long GATHER_QUIET_MS = 150;
  /** The header naming the app a request acts on (an app id; absent = the default app). */
  static final String APP_HEADER = "x-switchboard-app";

  /** Who is calling: the admin, or an API key's identity and grants. */
  record ServerKey(boolean admin, String subject, String sourceType, Grants grants) {
    void require(String channel) {
      if (!admin && !grants.allows(channel, Capability.SERVER)) {
        throw new ServiceError(ErrorCode.PERMISSION_DENIED, "this key has no server grant for " + channel);
      }
    }

    void requireUser(String user) {
      if (!admin) require(Channels.personal(user));
    }
  }

  private final GatewayLoop loop;
  private final GatewayApiCommands commands;

  ServerApi(GatewayLoop loop, GatewayApiCommands commands) {
    this.loop = loop;
    this.commands = commands;
  }

  void routes(Router r, BodyHandler body) {
    r.post("/api/:command").handler(body).handler(Http.answer(200, this::call)).failureHandler(Http::failed);
  }

  private Future<JsonObject> call(RoutingContext ctx) {
    String command = ctx.pathParam("command");
    return key(ctx.request()).compose(k -> {
      App app = app(ctx.request(), k);
      JsonObject params = Http.body(ctx);
      if (command.equals("batch")) return batch(k, app, params);
      return run(k, app, command, params);
    });
  }

  /** The app the request names (after its key is verified: an unknown key never learns which apps exist). */
  private App app(HttpServerRequest r, ServerKey k) {
    String id = r.getHeader(APP_HEADER);
    if (id == null || id.isBlank()) return loop.apps.defaultApp();
    App app = loop.apps.byId(id.trim());
    if (app == null) {
      throw new ServiceError(ErrorCode.NOT_FOUND, "unknown app '" + Channels.abbreviate(id.trim()) + "' (" + APP_HEADER
          + " names the id of an app in the apps config)");
    }
    if (!app.isDefault() && !k.admin()) {
      throw new ServiceError(ErrorCode.PERMISSION_DENIED, "only the admin key acts on app '" + app.id()
          + "'; API keys act on the default app");
    }
    if (!app.enabled()) throw new ServiceError(ErrorCode.PERMISSION_DENIED, "app " + app.id() + " is disabled");
    return app;
  }

  /** The caller's key, verified by the auth-service. */
  private Future<ServerKey> key(HttpServerRequest r) {
    String presented = r.getHeader("x-api-key");
    if (presented == null || presented.isBlank()) presented = Http.bearer(r);
    if (presented == null || presented.isBlank()) {
      return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED,
          "no API key: send x-api-key: <key> (the admin key or an API key with a server grant)"));
    }
    if (presented.startsWith("eyJ") && presented.chars().filter(ch -> ch == '.').count() == 2) {
      return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED, "the server API takes an API key, not a client token"));
    }
    return loop.bus.<JsonObject>request(Addresses.AUTH_KEY_VERIFY, new JsonObject().put("key", presented.trim()),
            new DeliveryOptions().setSendTimeout(loop.cfg.requestTimeoutMs()))
        .recover(t -> Future.failedFuture(ServiceError.from(t, "auth service")))
        .map(m -> {
          JsonObject k = m.body();
          if (k.getBoolean("admin", false)) return new ServerKey(true, "admin", "server", Grants.NONE);
          Grants grants = Grants.parse(k.getValue("grants"), "grants");
          boolean server = false;
          for (Grants.Grant g : grants.list()) server |= g.capabilities().contains(Capability.SERVER);
          if (!server) {
            throw new ServiceError(ErrorCode.PERMISSION_DENIED, "this API key has no server capability (a grant with \"server\")");
          }
          return new ServerKey(false, k.getString("subject"), k.getString("sourceType", "service"), grants);
        });
  }

  /** Runs commands in order; each gets its own result or error, a failed one does not stop the rest. */
  private Future<JsonObject> batch(ServerKey k, App app, JsonObject params) {
    JsonArray cmds = params.getValue("commands") instanceof JsonArray a ? a : null;
    if (cmds == null || cmds.isEmpty()) throw ServiceError.badRequest("commands must be a non-empty array of {method, params}");
    if (cmds.size() > MAX_BATCH) throw ServiceError.badRequest("at most " + MAX_BATCH + " commands per batch");
    JsonArray replies = new JsonArray();
    Future<Void> chain = Future.succeededFuture();
    for (Object o : cmds) {
      chain = chain.compose(v -> {
        Future<JsonObject> one;
        try {
          if (!(o instanceof JsonObject c)) throw ServiceError.badRequest("each command must be {method, params}");
          String method = Params.string(c, "method", true, 64);
          if (method.equals("batch")) throw ServiceError.badRequest("a batch cannot contain a batch");
          JsonObject p = Params.object(c, "params", false);
          one = run(k, app, method, p == null ? new JsonObject() : p);
        } catch (RuntimeException e) {
          one = Future.failedFuture(e);
        }
        return one.transform(ar -> {
          replies.add(ar.succeeded() ? new JsonObject().put("result", ar.result())
              : new JsonObject().put("error", ServiceError.from(ar.cause(), "command").toJson()));
          return Future.succeededFuture();
        });
      });
    }
    return chain.map(v -> new JsonObject().put("replies", replies));
  }

  Future<JsonObject> run(ServerKey k, App app, String command, JsonObject p) {
    try {
      return switch (command) {
        case "publish" -> publish(k, app, p);
        case "broadcast" -> broadcast(k, app, p);
        case "history" -> {
          var q = NativeRequests.historyQuery(p, loop.cfg.maxHistoryLimit());
          k.require(q.channel());
          yield loop.ops.history(caller(k, null), app, q);
        }
        case "presence" -> {
          String ch = Params.channel(p);
          k.require(ch);
          yield loop.ops.presence(caller(k, null), app, ch);
        }
        case "presence_stats" -> {
          String ch = Params.channel(p);
          k.require(ch);
          yield loop.ops.presence(caller(k, null), app, ch).map(ServerApi::stats);
        }
        case "subscribe", "unsubscribe" -> {
          String user = Params.string(p, "user", true, 256);
          String ch = Params.channel(p);
          k.require(ch);
          yield commands.broadcast(new JsonObject().put("command", command).put("app", app.id()).put("user", user).put("channel", ch));
        }
        case "disconnect" -> {
          String user = Params.string(p, "user", true, 256);
          k.requireUser(user);
          String reason = Params.string(p, "reason", false, 120);
          yield commands.broadcast(new JsonObject().put("command", "disconnect").put("app", app.id()).put("user", user)
              .put("reason", reason == null ? "disconnected by the server" : reason));
        }
        case "refresh" -> refresh(k, app, p);
        case "channels" -> {
          if (!k.admin()) throw new ServiceError(ErrorCode.PERMISSION_DENIED, "channels needs the admin key");
          String prefix = Params.string(p, "prefix", false, 255);
          yield commands.gather(new JsonObject().put("command", "channels").put("app", app.id()).put("prefix", prefix == null ? "" : prefix))
              .map(ServerApi::mergeChannels);
        }
        case "info" -> {
          if (!k.admin()) throw new ServiceError(ErrorCode.PERMISSION_DENIED, "info needs the admin key");
          yield commands.gather(new JsonObject().put("command", "info")).map(ServerApi::mergeInfo);
        }
        default -> throw new ServiceError(ErrorCode.METHOD_NOT_FOUND, "unknown server command '" + Channels.abbreviate(command)
            + "' (publish, broadcast, history, presence, presence_stats, subscribe, unsubscribe, disconnect, refresh, channels, info, batch)");
      };
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<JsonObject> publish(ServerKey k, App app, JsonObject p) {
    var cmd = NativeRequests.publishCommand(p);
    k.require(cmd.channel());
    return loop.ops.publish(caller(k, source(k, p)), app, cmd);
  }

  private Future<JsonObject> broadcast(ServerKey k, App app, JsonObject p) {
    List<String> channels = Params.strings(p, "channels", MAX_BROADCAST, 255);
    if (channels == null || channels.isEmpty()) throw ServiceError.badRequest("channels must be a non-empty array of channel names");
    JsonObject source = source(k, p);
    List<Future<JsonObject>> each = new ArrayList<>();
    for (String ch : channels) {
      Future<JsonObject> f;
      try {
        JsonObject one = p.copy();
        one.remove("channels");
        var cmd = NativeRequests.publishCommand(one.put("channel", ch));
        k.require(ch);
        f = loop.ops.publish(caller(k, source), app, cmd);
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      each.add(f.transform(ar -> Future.succeededFuture(ar.succeeded()
          ? new JsonObject().put("channel", ch).put("result", ar.result())
          : new JsonObject().put("channel", ch).put("error", ServiceError.from(ar.cause(), "publish").toJson()))));
    }
    return Future.all(each).map(cf -> {
      JsonArray results = new JsonArray();
      for (Future<JsonObject> f : each) results.add(f.result());
      return new JsonObject().put("results", results);
    });
  }

  /** {@code source:{type, id}} overrides who the publication is from: admin only. */
  private static JsonObject source(ServerKey k, JsonObject p) {
    JsonObject s = Params.object(p, "source", false);
    if (s == null) return null;
    if (!k.admin()) throw new ServiceError(ErrorCode.PERMISSION_DENIED, "only the admin key may set source; this key publishes as " + k.subject());
    Params.string(s, "type", true, 64);
    Params.string(s, "id", true, 256);
    return s;
  }

  /** {@code {user, token}}: the user's live sessions take the new token (same subject); channels it no longer grants are dropped. */
  private Future<JsonObject> refresh(ServerKey k, App app, JsonObject p) {
    String user = Params.string(p, "user", true, 256);
    k.requireUser(user);
    String token = Params.string(p, "token", true, 16 * 1024);
    return loop.verifier.verify(token).compose(c -> {
      if (!c.subject().equals(user)) {
        return Future.failedFuture(ServiceError.badRequest("token is for subject " + c.subject() + ", not " + user));
      }
      return commands.broadcast(new JsonObject().put("command", "refresh").put("app", app.id()).put("user", user).put("token", token));
    });
  }

  /** A backend as a caller: it may do anything in its app (its scope was checked above), publishing as itself. */
  private static Caller caller(ServerKey k, JsonObject source) {
    String type = source != null ? source.getString("type") : k.sourceType();
    String id = source != null ? source.getString("id") : k.subject();
    return Caller.backend(id, type);
  }

  private static JsonObject stats(JsonObject presence) {
    JsonArray members = presence.getJsonArray("members", new JsonArray());
    Set<String> users = new HashSet<>();
    for (Object o : members) users.add(((JsonObject) o).getString("subject"));
    return new JsonObject().put("numClients", members.size()).put("numUsers", users.size());
  }

  private static JsonObject mergeChannels(List<JsonObject> answers) {
    JsonObject counts = new JsonObject();
    for (JsonObject a : answers) {
      JsonObject c = a.getJsonObject("channels", new JsonObject());
      for (String ch : c.fieldNames()) counts.put(ch, counts.getInteger(ch, 0) + c.getInteger(ch));
    }
    JsonObject out = new JsonObject();
    counts.fieldNames().stream().sorted().forEach(ch -> out.put(ch, new JsonObject().put("subscribers", counts.getInteger(ch))));
    return new JsonObject().put("channels", out);
  }

  private static JsonObject mergeInfo(List<JsonObject> answers) {
    JsonObject nodes = new JsonObject();
    for (JsonObject a : answers) {
      String node = a.getString("node");
      JsonObject n = nodes.getJsonObject(node);
      if (n == null) {
        n = new JsonObject().put("node", node).put("version", a.getString("version")).put("eventLoops", 0)
            .put("connections", 0).put("subscriptions", 0).put("heldPolls", 0);
        nodes.put(node, n);
      }
      n.put("eventLoops", n.getInteger("eventLoops") + 1)
          .put("connections", n.getInteger("connections") + a.getInteger("connections"))
          .put("subscriptions", n.getInteger("subscriptions") + a.getInteger("subscriptions"))
          .put("heldPolls", n.getInteger("heldPolls") + a.getInteger("heldPolls", 0));
    }
    JsonArray list = new JsonArray();
    int total = 0;
    int held = 0;
    for (String node : nodes.fieldNames().stream().sorted().toList()) {
      list.add(nodes.getJsonObject(node));
      total += nodes.getJsonObject(node).getInteger("connections");
      held += nodes.getJsonObject(node).getInteger("heldPolls");
    }
    // held long-polls are not sessions: their own count, not part of connections
    return new JsonObject().put("nodes", list).put("connections", total).put("heldPolls", held);
  }

}
