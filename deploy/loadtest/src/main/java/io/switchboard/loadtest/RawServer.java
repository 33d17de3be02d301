package io.switchboard.loadtest;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The baseline: the physical limit of Vert.x WebSockets on this machine. No auth, no store, no protocol — a
 * subscriber connects to {@code /sub?channel=C}, a publisher to {@code /pub} and sends {@code C|data}; every frame
 * is written unchanged to each subscriber of C. Deliberately naive, as a first server would be: the text is
 * re-encoded and flushed once per subscriber write.
 *
 * <p>One instance per event loop (like the gateway); a publisher's frame reaches every instance over the local
 * event bus, and each writes to its own subscribers, so all writes happen on the socket's own event loop.
 */
final class RawServer extends VerticleBase {
  static final String FANOUT = "raw.fanout";
  static final AtomicLong CONNECTIONS = new AtomicLong();

  private final int port;
  private final Map<String, List<ServerWebSocket>> channels = new HashMap<>();

  RawServer(int port) {
    this.port = port;
  }

  /** {@code raw-server [--port P] [--instances N] [--parent-pid PID]}: runs until killed (or the parent dies). */
  static void main(Options o) throws Exception {
    int port = o.integer("port", 8090);
    int instances = o.integer("instances", Runtime.getRuntime().availableProcessors());
    Vertx vertx = Vertx.vertx();
    vertx.deployVerticle(() -> new RawServer(port), new DeploymentOptions().setInstances(instances))
        .await(60, TimeUnit.SECONDS);
    System.out.println("raw-server: listening on 127.0.0.1:" + port + " with " + instances + " event loops");
    long parent = o.longValue("parent-pid", -1);
    if (parent > 0) {
      vertx.setPeriodic(1000, t -> {
        if (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false)) return;
        System.out.println("raw-server: parent " + parent + " is gone, exiting");
        Runtime.getRuntime().halt(0);
      });
    }
  }

  @Override
  public Future<?> start() {
    var consumer = vertx.eventBus().<String>localConsumer(FANOUT, m -> deliver(m.body()));
    // -Draw.strictThreadMode=true: Vert.x 5's experimental strict thread mode, which spares each connection its
    // outbound MPSC queue (an experiment for the idle-memory figures; off by default, as in the gateway)
    boolean strict = Boolean.getBoolean("raw.strictThreadMode");
    return consumer.completion().compose(v -> vertx.createHttpServer(new HttpServerOptions()
            .setHost("127.0.0.1").setPort(port).setTcpNoDelay(true).setStrictThreadMode(strict))
        .webSocketHandler(this::connected)
        .requestHandler(this::stats)
        .listen());
  }

  private void connected(ServerWebSocket ws) {
    CONNECTIONS.incrementAndGet();
    String path = ws.path();
    if (path.equals("/pub")) {
      ws.textMessageHandler(text -> vertx.eventBus().publish(FANOUT, text));
      ws.closeHandler(v -> CONNECTIONS.decrementAndGet());
      return;
    }
    String query = ws.query() == null ? "" : ws.query();
    String channel = query.startsWith("channel=") ? query.substring("channel=".length()) : "";
    List<ServerWebSocket> subs = channels.computeIfAbsent(channel, c -> new ArrayList<>());
    subs.add(ws);
    ws.closeHandler(v -> {
      CONNECTIONS.decrementAndGet();
      subs.remove(ws);
    });
    ws.writeTextMessage("ok");
  }

  private void deliver(String frame) {
    int bar = frame.indexOf('|');
    if (bar < 0) return;
    List<ServerWebSocket> subs = channels.get(frame.substring(0, bar));
    if (subs == null) return;
    for (int i = 0; i < subs.size(); i++) subs.get(i).writeTextMessage(frame);
  }

  private void stats(HttpServerRequest req) {
    if (!req.path().equals("/stats")) {
      req.response().setStatusCode(404).end();
      return;
    }
    req.response().putHeader("content-type", "application/json")
        .end(new JsonObject().put("connections", CONNECTIONS.get()).encode());
  }
}
