package io.switchboard.gateway.protocol.centrifuge;

import io.switchboard.common.Ids;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.transport.Endpoint;
import io.switchboard.gateway.transport.WebSocketTransport;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;

/**
 * Centrifuge client protocol v2 (JSON) over WebSocket at {@code /connection/websocket}, Centrifugo's path, in the
 * default app: an unmodified centrifuge-js v5 client connects here.
 */
public final class CentrifugeEndpoint implements Endpoint {
  public static final String PATH = "/connection/websocket";
  private final GatewayLoop loop;
  private final CentrifugeDialect dialect;

  public CentrifugeEndpoint(GatewayLoop loop) {
    this.loop = loop;
    this.dialect = new CentrifugeDialect(loop);
  }

  @Override
  public boolean handshake(ServerWebSocketHandshake h) {
    if (!PATH.equals(h.path())) return false;
    h.accept().onSuccess(this::open);
    return true;
  }

  private void open(ServerWebSocket ws) {
    WebSocketTransport t = loop.webSocket(ws);
    Session s = new Session(Ids.hex(16), loop, loop.apps.defaultApp(), t, dialect);
    s.dialectState = new CentrifugeSession();
    loop.register(s);
    t.listen(s);
  }
}
