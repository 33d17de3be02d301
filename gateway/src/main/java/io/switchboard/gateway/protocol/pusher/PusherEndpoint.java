package io.switchboard.gateway.protocol.pusher;

import io.switchboard.common.App;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.transport.Endpoint;
import io.switchboard.gateway.transport.WebSocketTransport;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.ext.web.Router;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Pusher Channels on the gateway port: the WebSocket at {@code /app/{key}?protocol=7} and the HTTP API at
 * {@code /apps/{id}/…}.
 */
public final class PusherEndpoint implements Endpoint {
  static final String PREFIX = "/app/";
  private final GatewayLoop loop;
  private final PusherHttpApi http;

  public PusherEndpoint(GatewayLoop loop) {
    this.loop = loop;
    this.http = new PusherHttpApi(loop);
  }

  @Override
  public boolean handshake(ServerWebSocketHandshake h) {
    if (!h.path().startsWith(PREFIX)) return false;
    h.accept().onSuccess(this::open);
    return true;
  }

  @Override
  public void routes(Router router) {
    http.routes(router);
  }

  /**
   * The app is found by its key; an unknown key (4001), a disabled app (4003) or an unsupported protocol version
   * (4007) is told so with a {@code pusher:error} and the close code pusher-js treats as "do not reconnect".
   */
  private void open(ServerWebSocket ws) {
    WebSocketTransport t = loop.webSocket(ws);
    String key = ws.path().substring(PREFIX.length());
    App app = loop.apps.byKey(key);
    Session s = new Session(socketId(), loop, app != null ? app : loop.apps.defaultApp(), t, PusherDialect.INSTANCE);
    loop.register(s);
    t.listen(s);
    if (app == null) {
      s.disconnect(Disconnect.UNKNOWN_APP, "App key " + key + " does not exist");
      return;
    }
    if (!app.enabled()) {
      s.disconnect(Disconnect.FORBIDDEN, "App " + app.id() + " is disabled");
      return;
    }
    String protocol = queryParam(ws.query(), "protocol");
    int version = -1;
    try {
      version = protocol == null ? -1 : Integer.parseInt(protocol);
    } catch (NumberFormatException ignored) {
      // refused below
    }
    if (version < 5 || version > 7) {
      s.disconnect(Disconnect.PROTOCOL_VIOLATION, "Unsupported protocol version " + protocol + " (5 to 7 are supported)");
      return;
    }
    PusherDialect.INSTANCE.open(s);
  }

  /** Pusher's socket id: digits, a dot, digits (the server library refuses anything else). */
  static String socketId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return r.nextLong(1_000_000_000L, 10_000_000_000L) + "." + r.nextLong(1_000_000_000L, 10_000_000_000L);
  }

  static String queryParam(String query, String name) {
    if (query == null) return null;
    for (String part : query.split("&")) {
      int eq = part.indexOf('=');
      String k = eq < 0 ? part : part.substring(0, eq);
      if (k.equals(name)) return eq < 0 ? "" : java.net.URLDecoder.decode(part.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
    }
    return null;
  }
}
