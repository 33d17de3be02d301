package io.switchboard.launcher;

import io.switchboard.common.test.Await;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy a test can cut: {@code cut(true)} drops every connection through it (as a network failure
 * would: no WebSocket close handshake) and refuses new ones until {@code cut(false)}.
 */
final class TcpProxy implements AutoCloseable {
  private final NetServer server;
  private final NetClient client;
  private final List<NetSocket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean refusing;

  private TcpProxy(NetServer server, NetClient client) {
    this.server = server;
    this.client = client;
  }

  static TcpProxy start(Vertx vertx, int targetPort) {
    NetClient client = vertx.createNetClient();
    TcpProxy[] self = new TcpProxy[1];
    NetServer server = vertx.createNetServer().connectHandler(in -> self[0].accept(in, targetPort));
    self[0] = new TcpProxy(server, client);
    Await.result(server.listen(0, "127.0.0.1"));
    return self[0];
  }

  private void accept(NetSocket in, int targetPort) {
    if (refusing) {
      in.close();
      return;
    }
    in.pause();
    client.connect(targetPort, "127.0.0.1").onComplete(ar -> {
      if (ar.failed() || refusing) {
        in.close();
        if (ar.succeeded()) ar.result().close();
        return;
      }
      NetSocket out = ar.result();
      sockets.add(in);
      sockets.add(out);
      in.handler(out::write);
      out.handler(in::write);
      in.closeHandler(v -> out.close());
      out.closeHandler(v -> in.close());
      in.resume();
    });
  }

  int port() {
    return server.actualPort();
  }

  /** Drops (and refuses) connections, or lets them through again. */
  void cut(boolean cut) {
    refusing = cut;
    if (cut) {
      for (NetSocket s : sockets) s.close();
      sockets.clear();
    }
  }

  @Override
  public void close() {
    cut(true);
    Await.result(server.close());
  }
}
