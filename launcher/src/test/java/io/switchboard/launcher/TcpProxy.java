package io.switchboard.launcher;

import io.switchboard.common.test.Await;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback in front of a server, so a test can cut every connection at the TCP level, as a server
 * crash or a network drop does, and let clients reconnect through it.
 */
final class TcpProxy implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final NetServer server;
  private final NetClient client;
  private final List<NetSocket> sockets = new CopyOnWriteArrayList<>();
  final int port;

  TcpProxy(int targetPort) {
    client = vertx.createNetClient();
    server = vertx.createNetServer().connectHandler(in -> {
      in.pause();
      client.connect(targetPort, "127.0.0.1").onComplete(ar -> {
        if (ar.failed()) {
          in.close();
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
    });
    port = Await.result(server.listen(0, "127.0.0.1")).actualPort();
  }

  /** Cuts every proxied connection at once (both sides see the TCP connection end; no close frame). */
  void cutAll() {
    for (NetSocket s : sockets) s.close();
    sockets.clear();
  }

  @Override
  public void close() {
    Await.result(vertx.close());
  }
}
