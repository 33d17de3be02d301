package io.switchboard.gateway.protocol.pusher;

import io.switchboard.common.Addresses;
import io.switchboard.common.App;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Priority;
import io.switchboard.common.SafeJson;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.core.Caller;
import io.switchboard.gateway.core.ChannelOps;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Params;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Pusher's HTTP API on the gateway port, signed with the app secret: trigger, batch trigger, channel info, presence
 * users, terminate a user's connections. Statuses are real HTTP statuses (401 bad signature, 404 unknown app, 413
 * oversize, 400 bad request); a trigger answers exactly {@code {}}. Triggered events are publications of the app's
 * channels, stored per namespace options like any other, so native and Centrifuge clients of the same app see them
 * and recover them.
 */
final class PusherHttpApi {
  /** The largest request body; an event's data is bounded by the app's maxPayloadBytes. */
  static final int MAX_BODY = 1024 * 1024;
  static final long TIMESTAMP_WINDOW_SECONDS = 600;
  static final int MAX_CHANNELS = 100;
  static final int MAX_BATCH = 10;
  private static final Pattern SOCKET_ID = Pattern.compile("\\d+\\.\\d+");
  private final GatewayLoop loop;

  PusherHttpApi(GatewayLoop loop) {
    this.loop = loop;
  }

  void routes(Router r) {
    String base = "/apps/:appId/*";
    r.route(base).handler(BodyHandler.create(false).setBodyLimit(MAX_BODY)).failureHandler(this::failure);
    r.route(base).handler(this::authenticate);
    r.post("/apps/:appId/events").handler(rc -> answer(rc, trigger(rc)));
    r.post("/apps/:appId/batch_events").handler(rc -> answer(rc, batch(rc)));
    r.get("/apps/:appId/channels").handler(rc -> answer(rc, channels(rc)));
    r.get("/apps/:appId/channels/:channel").handler(rc -> answer(rc, channel(rc)));
    r.get("/apps/:appId/channels/:channel/users").handler(rc -> answer(rc, users(rc)));
    r.post("/apps/:appId/users/:userId/terminate_connections").handler(rc -> answer(rc, terminate(rc)));
  }

  private static App app(RoutingContext rc) {
    return rc.get("app");
  }

  // --- authentication -----------------------------------------------------------------------------

  /** Pusher's request signature: auth_key, auth_timestamp within 600 s, auth_version 1.0, body_md5, auth_signature. */
  private void authenticate(RoutingContext rc) {
    App app = loop.apps.byId(rc.pathParam("appId"));
    if (app == null || app.key() == null) {
      error(rc, 404, "not_found", "Unknown app " + rc.pathParam("appId"));
      return;
    }
    MultiMap q = rc.queryParams(); // not request().params(): vertx-web adds the path params there
    Map<String, String> params = new HashMap<>();
    for (Map.Entry<String, String> e : q) params.put(e.getKey(), e.getValue());
    String key = params.get("auth_key");
    if (key == null || !PusherSignatures.equal(key, app.key())) {
      error(rc, 401, "unauthorized", "auth_key is missing or is not this app's key");
      return;
    }
    long ts;
    try {
      ts = Long.parseLong(params.getOrDefault("auth_timestamp", ""));
    } catch (NumberFormatException e) {
      error(rc, 401, "unauthorized", "auth_timestamp is missing or not a number");
      return;
    }
    long now = System.currentTimeMillis() / 1000;
    if (Math.abs(now - ts) > TIMESTAMP_WINDOW_SECONDS) {
      error(rc, 401, "unauthorized", "auth_timestamp is more than " + TIMESTAMP_WINDOW_SECONDS + " s from the server's time (" + now + ")");
      return;
    }
    if (!"1.0".equals(params.get("auth_version"))) {
      error(rc, 401, "unauthorized", "auth_version must be 1.0");
      return;
    }
    byte[] body = rc.body() == null || rc.body().buffer() == null ? new byte[0] : rc.body().buffer().getBytes();
    if (body.length > 0 && !PusherSignatures.equal(params.get("body_md5"), PusherSignatures.md5Hex(body))) {
      error(rc, 401, "unauthorized", "body_md5 does not match the body");
      return;
    }
    String expected = PusherSignatures.requestSignature(app.secret(), rc.request().method().name(), rc.request().path(), params);
    if (!PusherSignatures.equal(params.get("auth_signature"), expected)) {
      error(rc, 401, "unauthorized", "Invalid signature: expected HMAC SHA256 hex digest of the method, path and sorted query");
      return;
    }
    if (!app.enabled()) {
      error(rc, 403, "permission_denied", "App " + app.id() + " is disabled");
      return;
    }
    rc.put("app", app);
    // the app's backend: may publish anywhere in it; sources show service / app:<id>
    rc.put("backend", Caller.backend("app:" + app.id(), "service"));
    rc.next();
  }

  // --- trigger ------------------------------------------------------------------------------------

  private JsonObject body(RoutingContext rc) {
    if (rc.body() == null || rc.body().buffer() == null || rc.body().length() == 0) throw ServiceError.badRequest("the body must be a JSON object");
    return SafeJson.parseObject(rc.body().buffer());
  }

  private Future<JsonObject> trigger(RoutingContext rc) {
    JsonObject b = body(rc);
    List<String> channels;
    if (b.getValue("channels") != null) {
      channels = Params.strings(b, "channels", MAX_CHANNELS, 200);
      if (channels == null || channels.isEmpty()) throw ServiceError.badRequest("channels must list 1 to " + MAX_CHANNELS + " channels");
    } else if (b.getValue("channel") instanceof String c) {
      channels = List.of(c);
    } else {
      throw ServiceError.badRequest("channels (a list of at most " + MAX_CHANNELS + ") or channel is required");
    }
    Set<String> info = info(b.getValue("info"));
    List<Future<JsonObject>> sent = new ArrayList<>();
    for (String ch : channels) sent.add(publish(rc, ch, b));
    return Future.all(sent).compose(v -> info.isEmpty() ? Future.succeededFuture(new JsonObject())
        : channelInfo(app(rc), channels, info).map(m -> new JsonObject().put("channels", m)));
  }

  private Future<JsonObject> batch(RoutingContext rc) {
    JsonObject b = body(rc);
    if (!(b.getValue("batch") instanceof JsonArray list) || list.isEmpty()) throw ServiceError.badRequest("batch must be a non-empty list of events");
    if (list.size() > MAX_BATCH) throw new ServiceError(ErrorCode.BAD_REQUEST, "batch has " + list.size() + " events, at most " + MAX_BATCH + " are allowed");
    List<Future<JsonObject>> sent = new ArrayList<>();
    List<Set<String>> infos = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      if (!(list.getValue(i) instanceof JsonObject e)) throw ServiceError.badRequest("batch[" + i + "] must be an object {name, channel, data}");
      if (!(e.getValue("channel") instanceof String ch)) throw ServiceError.badRequest("batch[" + i + "].channel must be a string");
      infos.add(info(e.getValue("info")));
      sent.add(publish(rc, ch, e));
    }
    boolean anyInfo = infos.stream().anyMatch(s -> !s.isEmpty());
    return Future.all(sent).compose(v -> {
      if (!anyInfo) return Future.succeededFuture(new JsonObject());
      List<Future<JsonObject>> answers = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        String ch = list.getJsonObject(i).getString("channel");
        Set<String> in = infos.get(i);
        answers.add(in.isEmpty() ? Future.succeededFuture(new JsonObject())
            : channelInfo(app(rc), List.of(ch), in).map(m -> m.getJsonObject(ch, new JsonObject())));
      }
      return Future.all(answers).map(w -> {
        JsonArray out = new JsonArray();
        for (Future<JsonObject> f : answers) out.add(f.result());
        return new JsonObject().put("batch", out);
      });
    });
  }

  /** One event to one channel: checked here, then published like any publication (source: the app's backend). */
  private Future<JsonObject> publish(RoutingContext rc, String channel, JsonObject e) {
    App app = app(rc);
    Object name = e.getValue("name");
    if (!(name instanceof String event) || event.isEmpty()) throw ServiceError.badRequest("name must be a non-empty string");
    if (event.length() > 200) throw ServiceError.badRequest("name is longer than 200 characters");
    Object data = e.getValue("data");
    String text = PusherDialect.dataString(data);
    if (text.getBytes(StandardCharsets.UTF_8).length > app.maxPayloadBytes()) {
      throw new ServiceError(ErrorCode.TOO_LARGE, "data is larger than " + app.maxPayloadBytes() + " bytes");
    }
    String socketId = e.getValue("socket_id") instanceof String sid ? sid : null;
    if (e.getValue("socket_id") != null && (socketId == null || !SOCKET_ID.matcher(socketId).matches())) {
      throw ServiceError.badRequest("socket_id must look like 123.456");
    }
    return loop.ops.publish(rc.get("backend"), app, new ChannelOps.PublishCommand(PusherDialect.internal(channel), event,
        data instanceof String ? data : text, Priority.NORMAL, null, 0, false, null, null, socketId, null));
  }

  private static Set<String> info(Object v) {
    Set<String> out = new LinkedHashSet<>();
    if (v == null) return out;
    if (!(v instanceof String s)) throw ServiceError.badRequest("info must be a comma-separated string");
    for (String a : s.split(",")) {
      String t = a.trim();
      if (t.isEmpty()) continue;
      if (!t.equals("user_count") && !t.equals("subscription_count")) {
        throw ServiceError.badRequest("info attribute '" + t + "' is not one of user_count, subscription_count");
      }
      out.add(t);
    }
    return out;
  }

  // --- channel info -------------------------------------------------------------------------------

  /** {name: {user_count?, subscription_count?}} for the given Pusher channel names. */
  private Future<JsonObject> channelInfo(App app, List<String> channels, Set<String> info) {
    for (String c : channels) {
      if (info.contains("user_count") && !c.startsWith("presence-")) {
        throw ServiceError.badRequest("user_count is only available for presence channels (" + c + ")");
      }
    }
    List<String> scoped = channels.stream().map(c -> app.scope(PusherDialect.internal(c))).toList();
    Future<Map<String, Integer>> subs = info.contains("subscription_count")
        ? loop.stats.subscribers(scoped, null) : Future.succeededFuture(Map.of());
    Map<String, Future<Integer>> users = new LinkedHashMap<>();
    if (info.contains("user_count")) {
      for (String c : channels) users.put(c, userIds(app, c).map(List::size));
    }
    List<Future<?>> all = new ArrayList<>(users.values());
    all.add(subs);
    return Future.all(all).map(v -> {
      JsonObject out = new JsonObject();
      for (int i = 0; i < channels.size(); i++) {
        String c = channels.get(i);
        JsonObject one = new JsonObject();
        if (info.contains("user_count")) one.put("user_count", users.get(c).result());
        if (info.contains("subscription_count")) one.put("subscription_count", subs.result().getOrDefault(scoped.get(i), 0));
        out.put(c, one);
      }
      return out;
    });
  }

  private Future<List<String>> userIds(App app, String channel) {
    return loop.bus.<JsonObject>request(Addresses.PRESENCE_QUERY, new JsonObject().put("channel", app.scope(PusherDialect.internal(channel))))
        .map(m -> {
          Set<String> ids = new LinkedHashSet<>();
          for (Object o : m.body().getJsonArray("members", new JsonArray())) ids.add(((JsonObject) o).getString("subject"));
          return List.copyOf(ids);
        });
  }

  /** The occupied channels (cluster-wide), optionally by prefix. */
  private Future<JsonObject> channels(RoutingContext rc) {
    App app = app(rc);
    String prefix = rc.request().getParam("filter_by_prefix", "");
    Set<String> info = info(rc.request().getParam("info"));
    if (info.contains("user_count") && !prefix.startsWith("presence-")) {
      throw ServiceError.badRequest("info=user_count needs filter_by_prefix=presence-");
    }
    String scopedPrefix = app.scope(PusherDialect.internal(prefix));
    List<String> names = new ArrayList<>();
    for (String scoped : loop.fanout.channels(scopedPrefix)) {
      if (app.isDefault() && scoped.indexOf(App.SCOPE) >= 0) continue;
      names.add(PusherDialect.external(App.local(scoped)));
    }
    if (info.isEmpty()) {
      JsonObject out = new JsonObject();
      for (String n : names) out.put(n, new JsonObject());
      return Future.succeededFuture(new JsonObject().put("channels", out));
    }
    return channelInfo(app, names, info).map(m -> new JsonObject().put("channels", m));
  }

  private Future<JsonObject> channel(RoutingContext rc) {
    App app = app(rc);
    String channel = rc.pathParam("channel");
    Params.checkChannel(PusherDialect.internal(channel));
    Set<String> info = info(rc.request().getParam("info"));
    String scoped = app.scope(PusherDialect.internal(channel));
    // occupied from the cluster-wide interest index; counts when asked
    return loop.stats.subscribers(List.of(scoped), null).compose(subs -> {
      int n = subs.getOrDefault(scoped, 0);
      boolean occupied = n > 0 || !loop.fanout.nodesOf(scoped).isEmpty();
      JsonObject out = new JsonObject().put("occupied", occupied);
      if (info.isEmpty()) return Future.succeededFuture(out);
      return channelInfo(app, List.of(channel), info).map(m -> out.mergeIn(m.getJsonObject(channel)));
    });
  }

  private Future<JsonObject> users(RoutingContext rc) {
    String channel = rc.pathParam("channel");
    if (!channel.startsWith("presence-")) throw ServiceError.badRequest("users are only listed for presence channels");
    return userIds(app(rc), channel).map(ids -> {
      JsonArray users = new JsonArray();
      for (String id : ids) users.add(new JsonObject().put("id", id));
      return new JsonObject().put("users", users);
    });
  }

  private Future<JsonObject> terminate(RoutingContext rc) {
    String user = rc.pathParam("userId");
    loop.bus.publish(Addresses.GATEWAY_DISCONNECT, new JsonObject().put("subject", user).put("app", app(rc).id())
        .put("reason", "connections of user " + user + " terminated"));
    return Future.succeededFuture(new JsonObject());
  }

  // --- answers ------------------------------------------------------------------------------------

  private void answer(RoutingContext rc, Future<JsonObject> f) {
    f.onComplete(ar -> {
      if (ar.succeeded()) {
        rc.response().putHeader("content-type", "application/json").end(ar.result().encode());
      } else {
        ServiceError e = ServiceError.from(ar.cause(), "pusher api");
        error(rc, e.code().httpStatus(), e.code().wire(), e.getMessage());
      }
    });
  }

  /** Thrown checks (ServiceError) and the body limit (413) end here. */
  private void failure(RoutingContext rc) {
    Throwable t = rc.failure();
    if (t instanceof ServiceError e) {
      error(rc, e.code().httpStatus(), e.code().wire(), e.getMessage());
    } else if (rc.statusCode() == 413) {
      error(rc, 413, "too_large", "request body is larger than " + MAX_BODY + " bytes");
    } else {
      error(rc, rc.statusCode() > 0 ? rc.statusCode() : 500, "internal", t == null ? "request failed" : String.valueOf(t.getMessage()));
    }
  }

  private static void error(RoutingContext rc, int status, String code, String message) {
    if (rc.response().ended()) return;
    rc.response().setStatusCode(status).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)).encode());
  }
}
