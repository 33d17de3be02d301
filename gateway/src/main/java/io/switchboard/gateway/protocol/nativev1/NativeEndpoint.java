package io.switchboard.gateway.protocol.nativev1;

import io.switchboard.common.Ids;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.transport.Endpoint;
import io.switchboard.gateway.transport.WebSocketTransport;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;

/** Native protocol v1 over WebSocket at {@code /ws}, in the default app. */
public final class NativeEndpoint implements Endpoint {
  public static final String PATH = "/ws";
  private static volatile boolean directWritesWarned;
  private final GatewayLoop loop;

  public NativeEndpoint(GatewayLoop loop) {
    this.loop = loop;
  }

  @Override
  public boolean handshake(ServerWebSocketHandshake h) {
    if (!PATH.equals(h.path())) return false;
    h.accept().onSuccess(this::open);
    return true;
  }

  private void open(ServerWebSocket ws) {
    WebSocketTransport t = loop.webSocket(ws);
    if (!t.directWrites && !directWritesWarned) {
      directWritesWarned = true;
      System.getLogger(NativeEndpoint.class.getName()).log(System.Logger.Level.WARNING,
          "gateway: Vert.x's per-connection write queue could not be replaced (Vert.x version changed?): ~4 KB more per connection");
    }
    Session s = new Session(Ids.hex(16), loop, loop.apps.defaultApp(), t, NativeDialect.INSTANCE);
    loop.register(s);
    t.listen(s);
    NativeDialect.INSTANCE.open(s);
  }
}
