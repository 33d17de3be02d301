package io.switchboard.launcher;

import io.switchboard.common.Ids;
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
  /** session id → expiry (epoch ms). */
  private final Map<String, Long> sessions = new ConcurrentHashMap<>();
  /** remote address → [window start, failures]. */
  private final Map<String, long[]> failures = new ConcurrentHashMap<>();

  AdminConsole(String adminKey, Supplier<Future<JsonObject>> cluster) {
    this.adminKey = adminKey.getBytes(StandardCharsets.UTF_8);
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
    router.route("/admin/api/*").handler(ctx -> {
      if (requireSession(ctx)) json(ctx, 404, error("not_found", "no admin API at " + ctx.request().path()));
    });
    // stylesheet and scripts: public (they hold no data), from the jar
    router.get("/admin/assets/*").handler(StaticHandler.create("admin/assets").setCachingEnabled(false).setDirectoryListing(false));
  }

  private void securityHeaders(RoutingContext ctx) {
    ctx.response()
        .putHeader("Content-Security-Policy", "default-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "same-origin") // not no-referrer: with it browsers send Origin: null on our own form
        .putHeader("Cache-Control", "no-store");
    ctx.next();
  }

  // --- sessions --------------------------------------------------------------------------------------------------

  /** The valid session of a request, or null. */
  String session(HttpServerRequest req) {
    Cookie c = req.getCookie(COOKIE);
    if (c == null) return null;
    Long expires = sessions.get(c.getValue());
    if (expires == null) return null;
    if (expires < System.currentTimeMillis()) {
      sessions.remove(c.getValue());
      return null;
    }
    return c.getValue();
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
    sessions.put(id, System.currentTimeMillis() + SESSION_MS);
    LOG.log(System.Logger.Level.INFO, "admin: logged in", LogFields.of(LogFields.SUBJECT, "admin", "remote", remote));
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
    for (Iterator<Long> it = sessions.values().iterator(); it.hasNext(); ) if (it.next() < now) it.remove();
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
