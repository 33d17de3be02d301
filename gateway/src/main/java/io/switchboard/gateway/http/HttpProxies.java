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
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The app backend over HTTP, for backends that are not on the JVM (config {@code proxy.*}): each proxy is a
 * {@code POST} of a JSON body to the backend's URL, answered {@code {"result": …}} or {@code {"error":{code,
 * message}}} (a decision, passed to the client with the same error body as everywhere).
 *
 * <p>Failures (connection refused, a non-2xx status, a body that is not such an answer, no answer within
 * {@code proxy.timeoutMs}) give the client {@code unavailable}. Idempotent calls (connect, subscribe) are tried
 * {@code proxy.retries} more times; rpc and publish never are (the backend may have acted). Per proxy and event loop
 * a circuit breaker opens after {@code proxy.breakerFailures} failures in a row: calls then fail at once with
 * {@code unavailable} for {@code proxy.breakerResetMs}, after which one call is let through to try the backend.
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
  private final Map<Kind, Breaker> breakers = new EnumMap<>(Kind.class);
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
      breakers.put(k, new Breaker());
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
    return p.urls.isEmpty() ? null : p;
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
    return call(Kind.RPC, who(c, app).put("method", method).put("params", params)).map(r -> r);
  }

  @Override
  public Future<Object> publish(Caller c, App app, ChannelOps.PublishCommand cmd) {
    if (!urls.containsKey(Kind.PUBLISH) || !applies(publishNamespaces, cmd.channel())) return null;
    JsonObject body = who(c, app).put("channel", cmd.channel()).put("event", cmd.event()).put("data", cmd.data());
    if (cmd.tags() != null) body.put("tags", new JsonArray(cmd.tags()));
    return call(Kind.PUBLISH, body).map(r -> r instanceof JsonObject o && o.containsKey("data") ? o.getValue("data") : cmd.data());
  }

  @Override
  public Future<Void> subscribe(Caller c, App app, String channel) {
    if (!urls.containsKey(Kind.SUBSCRIBE) || !applies(subscribeNamespaces, channel)) return null;
    return call(Kind.SUBSCRIBE, who(c, app).put("channel", channel)).mapEmpty();
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
    return call(Kind.CONNECT, body).map(r -> {
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
  Future<Object> call(Kind kind, JsonObject body) {
    Breaker b = breakers.get(kind);
    long now = System.currentTimeMillis();
    if (b.openUntil > now || (b.openUntil > 0 && b.trial)) {
      return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "app backend (" + kind.wire()
          + " proxy) is failing; not calling it for " + Math.max(1, (b.openUntil - now + 999) / 1000) + " s"));
    }
    if (b.openUntil > 0) b.trial = true; // half-open: this call is the one trial
    Promise<Object> done = Promise.promise();
    attempt(kind, body.encode(), kind.idempotent ? retries : 0, done);
    return done.future();
  }

  private void attempt(Kind kind, String body, int retriesLeft, Promise<Object> done) {
    Breaker b = breakers.get(kind);
    once(kind, body).onComplete(ar -> {
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
      if (retriesLeft > 0) attempt(kind, body, retriesLeft - 1, done);
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

  private Future<Object> once(Kind kind, String body) {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(urls.get(kind))
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
