package io.switchboard.gateway.http;

import io.switchboard.common.App;
import io.switchboard.gateway.Claims;
import io.switchboard.gateway.core.AppBackend;
import io.switchboard.gateway.core.Caller;
import io.switchboard.gateway.core.ChannelOps;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/**
 * The app backends of every app, per app: an app with {@code proxies} in its config has its own {@link HttpProxies}
 * (its backend's URLs, its own timeouts, retries and breakers, its namespace overrides); the others use the global
 * {@code proxy} section. A client's calls go to its own app's backend only (the Caller's session app decides), so a
 * second app's backend sees its clients and nobody else's.
 */
final class AppProxies implements AppBackend {
  private final GatewayLoop loop;
  private final HttpProxies global;
  /** app id → its own proxies; an app configured with proxies that are all off maps to null (no backend at all). */
  private final Map<String, HttpProxies> own = new HashMap<>();

  private AppProxies(GatewayLoop loop, HttpProxies global) {
    this.loop = loop;
    this.global = global;
  }

  /** The loop's backends, or null when no app and no global section configures a proxy. */
  static AppProxies of(GatewayLoop loop, JsonObject globalConfig) {
    HttpProxies global = HttpProxies.of(loop, globalConfig);
    AppProxies all = new AppProxies(loop, global);
    boolean any = global != null;
    for (App app : loop.apps.all()) {
      if (app.proxies() == null) continue;
      // the app's section over the global one's settings (timeouts, retries, breaker), never its URLs
      JsonObject merged = new JsonObject();
      if (globalConfig != null) {
        for (String k : globalConfig.fieldNames()) if (!k.endsWith("Url") && !k.endsWith("Namespaces")) merged.put(k, globalConfig.getValue(k));
      }
      merged.mergeIn(app.proxies());
      HttpProxies p = HttpProxies.of(loop, merged);
      all.own.put(app.id(), p);
      any |= p != null;
    }
    return any ? all : null;
  }

  private AppBackend of(App app) {
    HttpProxies p = own.containsKey(app.id()) ? own.get(app.id()) : global;
    return p == null ? AppBackend.NONE : p;
  }

  @Override
  public Future<Object> rpc(Caller c, App app, String method, JsonObject params) {
    return of(app).rpc(c, app, method, params);
  }

  @Override
  public Future<Object> publish(Caller c, App app, ChannelOps.PublishCommand cmd) {
    return of(app).publish(c, app, cmd);
  }

  @Override
  public Future<Void> subscribe(Caller c, App app, String channel) {
    return of(app).subscribe(c, app, channel);
  }

  /** Connections without a token arrive on the native endpoint, which serves the default app. */
  @Override
  public boolean connects() {
    return of(loop.apps.defaultApp()).connects();
  }

  @Override
  public Future<Claims> connect(Session s) {
    return of(s.app).connect(s);
  }
}
