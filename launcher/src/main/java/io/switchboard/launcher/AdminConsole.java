package io.switchboard.launcher;

import io.switchboard.common.Addresses;
import io.switchboard.common.Fanout;
import io.switchboard.common.Ids;
import io.switchboard.common.ServiceError;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.switchboard.common.LogFields;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The admin dashboard at {@code /admin} of the operations port: a login form for the admin key, then pages and a
 * JSON API under {@code /admin/api}. Everything it serves is inside the jar (resources {@code admin/}): it works
 * offline.
 *
 * <p>Security invariants: the admin key only ever travels in the login form's POST body (never in a URL) and is
 * compared in constant time; a login creates a random session id held in an HttpOnly, SameSite=Strict cookie
 * scoped to {@code /admin}, kept in this JVM only ({@link #SESSION_MS}); every state-changing request is a POST that
 * needs the session AND either the header {@code x-switchboard-admin} (which no cross-site form can send: it would
 * need a CORS preflight we never allow) or, for the login form, an Origin that is this server. Pages send a CSP
 * allowing only their own scripts and styles, and may not be framed.
 */
final class AdminConsole {
  private static final System.Logger LOG = System.getLogger(AdminConsole.class.getName());
  static final String COOKIE = "sb_admin";
  static final String CSRF_HEADER = "x-switchboard-admin";
  static final long SESSION_MS = 8 * 3600 * 1000L;
  /** Failed logins tolerated per remote address per minute before answering 429. */
  static final int MAX_FAILURES_PER_MINUTE = 10;

  private final byte[] adminKey;
  private final Supplier<Future<JsonObject>> cluster;
  private final Supplier<Future<JsonObject>> series;
  private final EventBus bus;
  private final io.vertx.core.Vertx vertx;
  private final Fanout fanout;
  private final int gatewayPort;
  static final int CHANNEL_LIST_LIMIT = 200;
  /** A login: when it ends, and a short public label naming it in the audit log (the id itself is the secret). */
  record Session(long expires, String label) {}

  /** session id → session. */
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  /** remote address → [window start, failures]. */
  private final Map<String, long[]> failures = new ConcurrentHashMap<>();

  /**
   * @param gatewayPort the gateways' WebSocket port (the dashboard's own client connects there, on this host name)
   */
  AdminConsole(String adminKey, io.vertx.core.Vertx vertx, Fanout fanout, int gatewayPort, Supplier<Future<JsonObject>> cluster,
      Supplier<Future<JsonObject>> series) {
    this.vertx = vertx;
    EventBus bus = vertx.eventBus();
    this.series = series;
    this.fanout = fanout;
    this.adminKey = adminKey.getBytes(StandardCharsets.UTF_8);
    this.bus = bus;
    this.gatewayPort = gatewayPort;
    this.cluster = cluster;
  }

  void mount(Router router) {
    router.route("/admin/*").handler(this::securityHeaders);
    // Vert.x Web matches /admin and /admin/ alike: the page's relative world is /admin/, so send /admin there
    router.get("/admin/").handler(ctx -> {
      if (ctx.request().path().equals("/admin")) redirect(ctx, "/admin/");
      else page(ctx, session(ctx.request()) != null ? "index.html" : "login.html");
    });
    router.post("/admin/login").handler(BodyHandler.create(false).setBodyLimit(4096)).handler(this::login);
    router.post("/admin/logout").handler(this::logout);
    router.get("/admin/api/cluster").handler(ctx -> {
      if (requireSession(ctx)) cluster.get().onComplete(ar -> json(ctx, ar.succeeded() ? 200 : 503,
          ar.succeeded() ? ar.result() : error("unavailable", ar.cause().getMessage())));
    });
    router.get("/admin/api/series").handler(ctx -> {
      if (requireSession(ctx)) series.get().onComplete(ar -> json(ctx, ar.succeeded() ? 200 : 503,
          ar.succeeded() ? ar.result() : error("unavailable", ar.cause().getMessage())));
    });
    router.get("/admin/api/channels").handler(ctx -> {
      if (requireSession(ctx)) channels(ctx);
    });
    // what a subject still has to ack on a channel, asked of the store directly (any subject: this is the operator)
    router.get("/admin/api/pending").handler(ctx -> {
      if (!requireSession(ctx)) return;
      String channel = ctx.request().getParam("channel");
      String subject = ctx.request().getParam("subject");
      if (channel == null || channel.isEmpty() || subject == null || subject.isEmpty()) {
        json(ctx, 400, error("bad_request", "channel and subject are required"));
        return;
      }
      bus.<JsonObject>request(Addresses.STORE_PENDING, new JsonObject().put("channel", channel).put("subject", subject),
              new DeliveryOptions().setSendTimeout(5000))
          .onComplete(ar -> {
            if (ar.succeeded()) {
              json(ctx, 200, ar.result().body());
            } else {
              ServiceError e = ServiceError.from(ar.cause(), "message store");
              json(ctx, e.code().httpStatus(), new JsonObject().put("error", e.toJson()));
            }
          });
    });
    router.get("/admin/api/session").handler(ctx -> {
      if (requireSession(ctx)) json(ctx, 200, new JsonObject().put("gatewayPort", gatewayPort).put("wsPath", "/ws"));
    });
    router.post("/admin/api/*").handler(BodyHandler.create(false).setBodyLimit(64 * 1024));
    // the dashboard's own connection: a short token for subject admin-dashboard, every capability on every channel
    router.post("/admin/api/dashboard-token").handler(ctx -> {
      if (requireAction(ctx) == null) return;
      JsonObject body = new JsonObject().put("subject", DASHBOARD_SUBJECT).put("sourceType", "admin").put("ttl", 3600)
          .put("grants", new JsonArray().add(new JsonObject().put("channel", "*")
              .put("capabilities", new JsonArray().add("subscribe").add("publish").add("presence").add("history"))));
      authAdmin(ctx, "token", body, "dashboard of session " + sessions.get(session(ctx.request())).label());
    });
    router.post("/admin/api/auth/:action").handler(ctx -> {
      Session who = requireAction(ctx);
      if (who == null) return;
      String action = ctx.pathParam("action");
      if (!ADMIN_ACTIONS.contains(action)) {
        json(ctx, 404, error("not_found", "no admin action " + action + " (" + ADMIN_ACTIONS + ")"));
        return;
      }
      JsonObject body;
      try {
        body = ctx.body().asJsonObject();
      } catch (RuntimeException e) {
        body = null;
      }
      if (body == null) {
        json(ctx, 400, error("bad_request", "the body must be a JSON object"));
        return;
      }
      authAdmin(ctx, action, body, "admin session " + who.label());
    });
    router.post("/admin/api/disconnect").handler(this::disconnect);
    router.route("/admin/api/*").handler(ctx -> {
      if (requireSession(ctx)) json(ctx, 404, error("not_found", "no admin API at " + ctx.request().path()));
    });
    // stylesheet and scripts: public (they hold no data), from the jar
    router.get("/admin/assets/*").handler(StaticHandler.create("admin/assets").setCachingEnabled(false).setDirectoryListing(false));
  }

  // --- channels: the busiest by subscribers and by publish rate ---------------------------------------------------

  /** Each gateway node answers its top this many channels by subscribers and by publications (the answer says when cut). */
  static final int RANKED_MAX = 1000;
  /** How long a snapshot of publication counts serves as the base of the next rate. */
  static final long RATE_BASE_MAX_MS = 60_000;
  /** Without a recent base, a second snapshot is taken this much later. */
  static final long RATE_WINDOW_MS = 1000;

  /** Publications seen per channel at a time, for one prefix: the base of the next rates. */
  private record Snapshot(String prefix, long at, Map<String, Integer> subscribers, Map<String, Long> published, boolean cut) {}

  private volatile Snapshot lastSnapshot;

  /**
   * {@code ?prefix=&sort=subscribers|rate&limit=}: channels with subscribers now whose name starts with the prefix,
   * ranked by subscribers (cluster-wide) or by publications per second (since the previous call for the same prefix
   * within {@link #RATE_BASE_MAX_MS}, else over {@link #RATE_WINDOW_MS} measured now).
   */
  private void channels(RoutingContext ctx) {
    String prefix = ctx.request().getParam("prefix", "");
    String sort = ctx.request().getParam("sort", "subscribers");
    if (!sort.equals("subscribers") && !sort.equals("rate") && !sort.equals("name")) {
      json(ctx, 400, error("bad_request", "sort must be subscribers, rate or name"));
      return;
    }
    int limit;
    try {
      limit = Integer.parseInt(ctx.request().getParam("limit", "50"));
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > CHANNEL_LIST_LIMIT) {
      json(ctx, 400, error("bad_request", "limit must be 1.." + CHANNEL_LIST_LIMIT));
      return;
    }
    int top = limit;
    Snapshot base = lastSnapshot;
    long now = System.currentTimeMillis();
    boolean usable = base != null && base.prefix().equals(prefix) && now - base.at() > 0 && now - base.at() <= RATE_BASE_MAX_MS;
    Future<Snapshot> before = usable ? Future.succeededFuture(base) : snapshot(prefix).compose(first -> {
      io.vertx.core.Promise<Snapshot> later = io.vertx.core.Promise.promise();
      vertx().setTimer(RATE_WINDOW_MS, t -> later.complete(first));
      return later.future();
    });
    before.compose(b -> snapshot(prefix).map(now2 -> rank(b, now2, sort, top))).onComplete(ar -> {
      if (ar.succeeded()) json(ctx, 200, ar.result());
      else json(ctx, 503, error("unavailable", String.valueOf(ar.cause().getMessage())));
    });
  }

  private io.vertx.core.Vertx vertx() {
    return vertx;
  }

  /** Every gateway node's subscribers and publications seen per channel with the prefix. */
  private Future<Snapshot> snapshot(String prefix) {
    JsonObject q = new JsonObject().put("prefix", prefix).put("published", true).put("top", RANKED_MAX);
    java.util.List<Future<JsonObject>> answers = new java.util.ArrayList<>();
    for (String node : fanout.gatewayNodes()) {
      answers.add(bus.<JsonObject>request(Addresses.gatewayCounts(node), q, new DeliveryOptions().setSendTimeout(2000))
          .map(m -> m.body()).otherwise(new JsonObject()));
    }
    return Future.all(answers).map(v -> {
      Map<String, Integer> subscribers = new java.util.HashMap<>();
      Map<String, Long> published = new java.util.HashMap<>();
      boolean cut = false;
      for (Future<JsonObject> f : answers) {
        cut |= f.result().getBoolean("cut", false);
        JsonObject c = f.result().getJsonObject("channels", new JsonObject());
        for (String k : c.fieldNames()) subscribers.merge(k, c.getInteger(k), Integer::sum);
        JsonObject p = f.result().getJsonObject("published", new JsonObject());
        for (String k : p.fieldNames()) published.merge(k, p.getLong(k), Math::max);
      }
      Snapshot snap = new Snapshot(prefix, System.currentTimeMillis(), subscribers, published, cut);
      lastSnapshot = snap;
      return snap;
    });
  }

  private JsonObject rank(Snapshot before, Snapshot now, String sort, int limit) {
    double seconds = Math.max(0.001, (now.at() - before.at()) / 1000.0);
    java.util.List<JsonObject> rows = new java.util.ArrayList<>();
    for (Map.Entry<String, Integer> e : now.subscribers().entrySet()) {
      String ch = e.getKey();
      JsonObject row = new JsonObject().put("channel", ch).put("subscribers", e.getValue()).put("nodes", fanout.nodesOf(ch).size());
      Long was = before.published().get(ch);
      // a channel new since the base started counting from 0 then — unless the base was cut and merely left it out
      if (was != null || !before.cut()) {
        // a loop that lost the channel may make the max drop: never below 0
        long delta = Math.max(0, now.published().getOrDefault(ch, 0L) - (was == null ? 0 : was));
        row.put("rate", Math.round(delta / seconds * 10) / 10.0);
      }
      rows.add(row);
    }
    java.util.Comparator<JsonObject> byName = java.util.Comparator.comparing(r -> r.getString("channel"));
    java.util.Comparator<JsonObject> order = switch (sort) {
      case "rate" -> java.util.Comparator.<JsonObject>comparingDouble(r -> -r.getDouble("rate", 0.0))
          .thenComparing(r -> -r.getInteger("subscribers")).thenComparing(byName);
      case "name" -> byName;
      default -> java.util.Comparator.<JsonObject>comparingInt(r -> -r.getInteger("subscribers"))
          .thenComparing(r -> -r.getDouble("rate", 0.0)).thenComparing(byName);
    };
    rows.sort(order);
    JsonArray list = new JsonArray();
    rows.stream().limit(limit).forEach(list::add);
    return new JsonObject().put("channels", list).put("more", rows.size() > limit || now.cut()).put("total", rows.size()).put("sort", sort)
        .put("rateSeconds", Math.round(seconds * 10) / 10.0);
  }

  // --- disconnect a client -------------------------------------------------------------------------------------

  /**
   * {@code {subject?, connection?, app?, reason?}}: every gateway closes the matching sessions (4008 terminated in
   * the native protocol) and logs each with this admin session; this JVM logs the request.
   */
  private void disconnect(RoutingContext ctx) {
    Session who = requireAction(ctx);
    if (who == null) return;
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      json(ctx, 400, error("bad_request", "the body must be a JSON object"));
      return;
    }
    JsonObject order = new JsonObject();
    for (String field : java.util.List.of("subject", "connection", "app", "reason")) {
      Object v = body.getValue(field);
      if (v == null || v instanceof String str && str.isBlank()) continue;
      if (!(v instanceof String str) || str.length() > 256) {
        json(ctx, 400, error("bad_request", field + " must be a string of at most 256 characters"));
        return;
      }
      order.put(field, str.trim());
    }
    if (!order.containsKey("subject") && !order.containsKey("connection")) {
      json(ctx, 400, error("bad_request", "name a subject, a connection id, or both"));
      return;
    }
    String remote = ctx.request().remoteAddress() == null ? "?" : ctx.request().remoteAddress().hostAddress();
    String by = "admin session " + who.label() + " from " + remote;
    order.put("reason", order.getString("reason", "disconnected by an operator")).put("by", by);
    LOG.log(System.Logger.Level.INFO, "admin: disconnect " + (order.containsKey("connection") ? "connection " + order.getString("connection") : "")
        + (order.containsKey("connection") && order.containsKey("subject") ? " of " : "")
        + (order.containsKey("subject") ? "subject " + order.getString("subject") : "") + " (" + by + ")",
        LogFields.of(LogFields.SUBJECT, order.getString("subject"), LogFields.CONNECTION, order.getString("connection"),
            "app", order.getString("app"), "by", by));
    bus.publish(Addresses.GATEWAY_DISCONNECT, order);
    json(ctx, 200, new JsonObject().put("requested", order));
  }

  private void securityHeaders(RoutingContext ctx) {
    ctx.response()
        .putHeader("Content-Security-Policy", "default-src 'self'; connect-src 'self' " + gatewayOrigins(ctx.request())
            + "; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "same-origin") // not no-referrer: with it browsers send Origin: null on our own form
        .putHeader("Cache-Control", "no-store");
    ctx.next();
  }

  /** The gateway's WebSocket origins on the host name the browser used (the dashboard's own client connects there). */
  private String gatewayOrigins(HttpServerRequest req) {
    io.vertx.core.net.HostAndPort a = req.authority();
    String host = a == null ? "localhost" : a.host();
    if (host.contains(":") && !host.startsWith("[")) host = "[" + host + "]";
    return "ws://" + host + ":" + gatewayPort + " wss://" + host + ":" + gatewayPort;
  }

  // --- sessions --------------------------------------------------------------------------------------------------

  /** The valid session of a request, or null. */
  String session(HttpServerRequest req) {
    Cookie c = req.getCookie(COOKIE);
    if (c == null) return null;
    Session session = sessions.get(c.getValue());
    if (session == null) return null;
    if (session.expires() < System.currentTimeMillis()) {
      sessions.remove(c.getValue());
      return null;
    }
    return c.getValue();
  }

  static final String DASHBOARD_SUBJECT = "admin-dashboard";
  static final java.util.List<String> ADMIN_ACTIONS = java.util.List.of("token", "key.create", "key.delete", "revoke");

  /** A state-changing API call: the session, and the header that proves it comes from our own page. */
  private Session requireAction(RoutingContext ctx) {
    String id = session(ctx.request());
    if (id == null) {
      json(ctx, 401, error("unauthorized", "log in at /admin/ with the admin key"));
      return null;
    }
    if (ctx.request().getHeader(CSRF_HEADER) == null) {
      json(ctx, 403, error("permission_denied", "send " + CSRF_HEADER + " with state-changing requests"));
      return null;
    }
    return sessions.get(id);
  }

  /** One action of the auth service over the bus; its answer, or its typed error with the matching HTTP status. */
  private void authAdmin(RoutingContext ctx, String action, JsonObject body, String by) {
    String remote = ctx.request().remoteAddress() == null ? "?" : ctx.request().remoteAddress().hostAddress();
    bus.<JsonObject>request(Addresses.AUTH_ADMIN, new JsonObject().put("action", action).put("body", body).put("by", by + " from " + remote),
            new DeliveryOptions().setSendTimeout(5000))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            json(ctx, 200, ar.result().body() == null ? new JsonObject() : ar.result().body());
          } else {
            ServiceError e = ServiceError.from(ar.cause(), "auth service");
            json(ctx, e.code().httpStatus(), new JsonObject().put("error", e.toJson()));
          }
        });
  }

  private boolean requireSession(RoutingContext ctx) {
    if (session(ctx.request()) != null) return true;
    json(ctx, 401, error("unauthorized", "log in at /admin/ with the admin key"));
    return false;
  }

  private void login(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String remote = req.remoteAddress() == null ? "?" : req.remoteAddress().hostAddress();
    if (!sameOrigin(req)) {
      json(ctx, 403, error("permission_denied", "login from another site refused"));
      return;
    }
    if (tooManyFailures(remote)) {
      LOG.log(System.Logger.Level.WARNING, "admin: login refused, too many failures", LogFields.of("remote", remote));
      page(ctx.response().setStatusCode(429), "login.html", "Too many failed logins: wait a minute.");
      return;
    }
    String key = req.getFormAttribute("key");
    if (key == null || !MessageDigest.isEqual(key.trim().getBytes(StandardCharsets.UTF_8), adminKey)) {
      failed(remote);
      LOG.log(System.Logger.Level.WARNING, "admin: login failed (wrong key)", LogFields.of("remote", remote));
      page(ctx.response().setStatusCode(401), "login.html", "That is not the admin key.");
      return;
    }
    sweep();
    String id = Ids.secret(32);
    String label = Ids.hex(4);
    sessions.put(id, new Session(System.currentTimeMillis() + SESSION_MS, label));
    LOG.log(System.Logger.Level.INFO, "admin: logged in (session " + label + ")", LogFields.of(LogFields.SUBJECT, "admin", "remote", remote));
    ctx.response().addCookie(Cookie.cookie(COOKIE, id).setPath("/admin").setHttpOnly(true)
        .setSameSite(CookieSameSite.STRICT).setMaxAge(SESSION_MS / 1000).setSecure(req.isSSL()));
    redirect(ctx, "/admin/");
  }

  private void logout(RoutingContext ctx) {
    String id = session(ctx.request());
    if (id == null || ctx.request().getHeader(CSRF_HEADER) == null) {
      json(ctx, id == null ? 401 : 403, error(id == null ? "unauthorized" : "permission_denied",
          id == null ? "not logged in" : "send " + CSRF_HEADER + " with state-changing requests"));
      return;
    }
    sessions.remove(id);
    ctx.response().addCookie(Cookie.cookie(COOKIE, "").setPath("/admin").setHttpOnly(true)
        .setSameSite(CookieSameSite.STRICT).setMaxAge(0));
    json(ctx, 200, new JsonObject().put("loggedOut", true));
  }

  /** A form POST from a page of this server: Origin (when the browser sends it) names this host. */
  private static boolean sameOrigin(HttpServerRequest req) {
    String origin = req.getHeader("Origin");
    if (origin == null) return true; // not a browser, or an old one: the key itself is the proof
    io.vertx.core.net.HostAndPort authority = req.authority();
    if (authority == null) return false;
    String host = authority.host() + (authority.port() > 0 ? ":" + authority.port() : "");
    return origin.equals("http://" + host) || origin.equals("https://" + host);
  }

  private boolean tooManyFailures(String remote) {
    long[] f = failures.get(remote);
    return f != null && System.currentTimeMillis() - f[0] < 60_000 && f[1] >= MAX_FAILURES_PER_MINUTE;
  }

  private void failed(String remote) {
    long now = System.currentTimeMillis();
    failures.compute(remote, (k, f) -> f == null || now - f[0] >= 60_000 ? new long[] {now, 1} : new long[] {f[0], f[1] + 1});
  }

  private void sweep() {
    long now = System.currentTimeMillis();
    for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) if (it.next().expires() < now) it.remove();
    failures.values().removeIf(f -> now - f[0] >= 60_000);
  }

  // --- answers ---------------------------------------------------------------------------------------------------

  private void page(RoutingContext ctx, String name) {
    page(ctx.response(), name, "");
  }

  private void page(HttpServerResponse resp, String name, String message) {
    String html = resource("admin/" + name).replace("<!--MESSAGE-->", message.isEmpty() ? "" : "<p class=\"error\" role=\"alert\">" + message + "</p>");
    resp.putHeader("content-type", "text/html; charset=utf-8").end(html);
  }

  private static String resource(String path) {
    try (InputStream in = AdminConsole.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) throw new IllegalStateException("missing resource " + path);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + path, e);
    }
  }

  private static void redirect(RoutingContext ctx, String to) {
    ctx.response().setStatusCode(303).putHeader("Location", to).end();
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(Buffer.buffer(body.encode()));
  }

  private static JsonObject error(String code, String message) {
    return new JsonObject().put("error", new JsonObject().put("code", code).put("message", message));
  }
}
