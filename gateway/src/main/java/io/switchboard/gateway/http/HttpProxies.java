package io.switchboard.gateway.http;

import io.switchboard.common.Channels;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Grants;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.Claims;
import io.switchboard.common.App;
import io.switchboard.gateway.core.AppBackend;
import io.switchboard.gateway.core.Caller;
import io.switchboard.gateway.core.ChannelOps;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One app's backend over HTTP, for backends that are not on the JVM (config {@code proxy.*}, or an app's
 * {@code apps[].proxies}; {@link AppProxies} picks the app's): each proxy is a
 * {@code POST} of a JSON body to the backend's URL, answered {@code {"result": …}} or {@code {"error":{code,
 * message}}} (a decision, passed to the client with the same error body as everywhere).
 *
 * <p>Failures (connection refused, a non-2xx status, a body that is not such an answer, no answer within
 * {@code proxy.timeoutMs}) give the client {@code unavailable}. Idempotent calls (connect, subscribe) are tried
 * {@code proxy.retries} more times; rpc and publish never are (the backend may have acted). Per proxy and event loop
 * a circuit breaker opens after {@code proxy.breakerFailures} failures in a row: calls then fail at once with
 * {@code unavailable} for {@code proxy.breakerResetMs}, after which one call is let through to try the backend.
 * A namespace may have its own subscribe and publish URL ({@code namespaces: {ns: {subscribeUrl, publishUrl}}},
 * {@code ""} = none there): its channels go there whatever {@code subscribeNamespaces}/{@code publishNamespaces} say.
 * Breakers are per URL.
 */
final class HttpProxies implements AppBackend {

  enum Kind {
    CONNECT(true), RPC(false), SUBSCRIBE(true), PUBLISH(false);

    final boolean idempotent;

    Kind(boolean idempotent) {
      this.idempotent = idempotent;
    }

    String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** One proxy's circuit breaker (confined to the loop). */
  private static final class Breaker {
    int failures;
    long openUntil;
    boolean trial;
  }

  private final GatewayLoop loop;
  private final HttpClient client;
  private final Map<Kind, String> urls = new EnumMap<>(Kind.class);
  /** namespace → its own URL per proxy ("" = no proxy for that namespace). */
  private final Map<String, Map<Kind, String>> byNamespace = new HashMap<>();
  /** One breaker per proxy URL (kind and URL: two proxies on one URL still fail separately). */
  private final Map<String, Breaker> breakers = new HashMap<>();
  private final Set<String> subscribeNamespaces;
  private final Set<String> publishNamespaces;
  private final long timeoutMs;
  private final int retries;
  private final int breakerFailures;
  private final long breakerResetMs;

  private HttpProxies(GatewayLoop loop, JsonObject p) {
    this.loop = loop;
    for (Kind k : Kind.values()) {
      String url = p.getString(k.wire() + "Url", "");
      if (!url.isEmpty()) urls.put(k, url);
    }
    JsonObject ns = p.getJsonObject("namespaces", new JsonObject());
    for (String n : ns.fieldNames()) {
      Map<Kind, String> own = new EnumMap<>(Kind.class);
      for (Kind k : new Kind[] {Kind.SUBSCRIBE, Kind.PUBLISH}) {
        String url = ns.getJsonObject(n).getString(k.wire() + "Url");
        if (url != null) own.put(k, url);
      }
      byNamespace.put(n, own);
    }
    subscribeNamespaces = names(p.getString("subscribeNamespaces", ""));
    publishNamespaces = names(p.getString("publishNamespaces", ""));
    timeoutMs = p.getLong("timeoutMs", 3000L);
    retries = p.getInteger("retries", 2);
    breakerFailures = Math.max(1, p.getInteger("breakerFailures", 5));
    breakerResetMs = p.getLong("breakerResetMs", 10_000L);
    client = loop.vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs))
        .setKeepAlive(true));
  }

  /** The proxies of the config, or null when none is configured. */
  static HttpProxies of(GatewayLoop loop, JsonObject proxyConfig) {
    if (proxyConfig == null) return null;
    HttpProxies p = new HttpProxies(loop, proxyConfig);
    boolean any = !p.urls.isEmpty();
    for (Map<Kind, String> own : p.byNamespace.values()) for (String u : own.values()) any |= !u.isEmpty();
    return any ? p : null;
  }

  /** The URL a call about {@code channel} goes to; null when none. */
  private String url(Kind kind, Set<String> namespaces, String channel) {
    Map<Kind, String> own = byNamespace.get(Channels.namespace(channel));
    if (own != null && own.containsKey(kind)) {
      String u = own.get(kind);
      return u.isEmpty() ? null : u;
    }
    return urls.containsKey(kind) && applies(namespaces, channel) ? urls.get(kind) : null;
  }

  private static Set<String> names(String list) {
    return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
  }

  private static boolean applies(Set<String> namespaces, String channel) {
    return namespaces.isEmpty() || namespaces.contains(Channels.namespace(channel));
  }

  private static JsonObject who(Caller c, App app) {
    JsonObject b = new JsonObject().put("client", c.clientId()).put("subject", c.subject()).put("sourceType", c.sourceType());
    if (!app.isDefault()) b.put("app", app.id());
    return b;
  }

  // --- the four proxies ------------------------------------------------------------------------------

  @Override
  public Future<Object> rpc(Caller c, App app, String method, JsonObject params) {
    if (!urls.containsKey(Kind.RPC)) return null;
    return call(Kind.RPC, urls.get(Kind.RPC), who(c, app).put("method", method).put("params", params)).map(r -> r);
  }

  @Override
  public Future<Object> publish(Caller c, App app, ChannelOps.PublishCommand cmd) {
    String url = url(Kind.PUBLISH, publishNamespaces, cmd.channel());
    if (url == null) return null;
    JsonObject body = who(c, app).put("channel", cmd.channel()).put("event", cmd.event()).put("data", cmd.data());
    if (cmd.tags() != null) body.put("tags", new JsonArray(cmd.tags()));
    return call(Kind.PUBLISH, url, body).map(r -> r instanceof JsonObject o && o.containsKey("data") ? o.getValue("data") : cmd.data());
  }

  @Override
  public Future<Void> subscribe(Caller c, App app, String channel) {
    String url = url(Kind.SUBSCRIBE, subscribeNamespaces, channel);
    if (url == null) return null;
    return call(Kind.SUBSCRIBE, url, who(c, app).put("channel", channel)).mapEmpty();
  }

  @Override
  public boolean connects() {
    return urls.containsKey(Kind.CONNECT);
  }

  /**
   * {@code {client, transport, headers:{cookie, origin, user-agent}, remoteAddress}} → {@code {result:{subject,
   * sourceType?, grants?, info?, ttl?}}}: the identity for this connection, as a token would have given it.
   */
  @Override
  public Future<Claims> connect(Session s) {
    if (!connects()) return null;
    JsonObject headers = new JsonObject();
    for (String h : new String[] {"cookie", "origin", "user-agent"}) {
      String v = s.transport.header(h);
      if (v != null) headers.put(h, v);
    }
    JsonObject body = new JsonObject().put("client", s.id).put("transport", s.transport.bidirectional() ? "websocket" : "http")
        .put("headers", headers).put("remoteAddress", s.transport.remoteAddress());
    if (!s.app.isDefault()) body.put("app", s.app.id());
    return call(Kind.CONNECT, urls.get(Kind.CONNECT), body).map(r -> {
      if (!(r instanceof JsonObject o) || !(o.getValue("subject") instanceof String subject) || subject.isEmpty()) {
        throw new ServiceError(ErrorCode.UNAVAILABLE, "app backend's connect answer has no subject");
      }
      long now = System.currentTimeMillis() / 1000;
      long ttl = o.getLong("ttl", 3600L);
      Grants grants;
      try {
        grants = o.getValue("grants") == null ? Grants.NONE : Grants.parse(o.getValue("grants"), "grants");
      } catch (ServiceError e) {
        throw new ServiceError(ErrorCode.UNAVAILABLE, "app backend's connect answer: " + e.getMessage());
      }
      Object info = o.getValue("info");
      return new Claims(subject, null, now, now + Math.max(1, ttl), grants, o.getString("sourceType", "user"),
          info instanceof JsonObject i ? i : new JsonObject());
    });
  }

  // --- calls, retries, breaker -------------------------------------------------------------------------

  /** The backend's result; a failed future with its decision or {@code unavailable}. */
  Future<Object> call(Kind kind, String url, JsonObject body) {
    Breaker b = breakers.computeIfAbsent(kind.wire() + " " + url, k -> new Breaker());
    long now = System.currentTimeMillis();
    if (b.openUntil > now || (b.openUntil > 0 && b.trial)) {
      return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "app backend (" + kind.wire()
          + " proxy) is failing; not calling it for " + Math.max(1, (b.openUntil - now + 999) / 1000) + " s"));
    }
    if (b.openUntil > 0) b.trial = true; // half-open: this call is the one trial
    Promise<Object> done = Promise.promise();
    attempt(kind, url, b, body.encode(), kind.idempotent ? retries : 0, done);
    return done.future();
  }

  private void attempt(Kind kind, String url, Breaker b, String body, int retriesLeft, Promise<Object> done) {
    once(kind, url, body).onComplete(ar -> {
      if (ar.succeeded()) {
        b.failures = 0;
        b.openUntil = 0;
        b.trial = false;
        done.complete(ar.result());
        return;
      }
      if (ar.cause() instanceof Decision d) {
        b.failures = 0;
        b.openUntil = 0;
        b.trial = false;
        done.fail(d.error);
        return;
      }
      b.failures++;
      if (b.trial || b.failures >= breakerFailures) {
        b.openUntil = System.currentTimeMillis() + breakerResetMs;
        b.trial = false;
        done.fail(unavailable(kind, ar.cause()));
        return;
      }
      if (retriesLeft > 0) attempt(kind, url, b, body, retriesLeft - 1, done);
      else done.fail(unavailable(kind, ar.cause()));
    });
  }

  private static ServiceError unavailable(Kind kind, Throwable t) {
    return new ServiceError(ErrorCode.UNAVAILABLE, "app backend (" + kind.wire() + " proxy) failed: " + t.getMessage());
  }

  /** A refusal or error the backend decided: passed to the client, never a backend failure. */
  private static final class Decision extends RuntimeException {
    final ServiceError error;

    Decision(ServiceError error) {
      super(error.getMessage(), null, false, false);
      this.error = error;
    }
  }

  private Future<Object> once(Kind kind, String url, String body) {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
        .setIdleTimeout(timeoutMs).putHeader("content-type", "application/json");
    return client.request(o)
        .compose(req -> req.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().map(buf -> {
          if (resp.statusCode() / 100 != 2) throw new IllegalStateException("HTTP " + resp.statusCode());
          JsonObject answer;
          try {
            answer = io.switchboard.common.SafeJson.parseObject(buf); // the backend's answer reaches clients: bounded too
          } catch (RuntimeException e) {
            throw new IllegalStateException("answer is not a JSON object");
          }
          if (answer.getValue("error") instanceof JsonObject e) throw new Decision(decision(kind, e));
          if (!answer.containsKey("result")) throw new IllegalStateException("answer has neither result nor error");
          return answer.getValue("result");
        }))
        .timeout(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** The backend's error as the client's: one of our codes, else permission_denied (rpc: internal). */
  private static ServiceError decision(Kind kind, JsonObject e) {
    ErrorCode code = ErrorCode.fromWire(e.getString("code", ""));
    if (code == null) code = kind == Kind.RPC ? ErrorCode.INTERNAL : ErrorCode.PERMISSION_DENIED;
    String message = e.getValue("message") instanceof String m ? m : "refused by the app backend";
    return new ServiceError(code, message);
  }
}
