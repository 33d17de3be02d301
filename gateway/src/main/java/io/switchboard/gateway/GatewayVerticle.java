package io.switchboard.gateway;

import io.switchboard.common.Addresses;
import io.switchboard.common.CloseCode;
import io.switchboard.common.Fanout;
import io.switchboard.common.Ids;
import io.switchboard.common.Publication;
import io.switchboard.common.PublicationCodec;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One gateway event loop: accepts WebSocket connections on {@code /ws} (the port is shared by all instances), runs
 * the native protocol for them, and delivers fan-out publications to its local subscribers through its
 * {@link ChannelHub}. All state here is confined to this verticle's event loop.
 *
 * <p>Timers are per event loop, never per connection: one housekeeping sweep enforces connect timeouts, pings and
 * pong deadlines and token expiry for every connection, and one presence refresh keeps all of its members alive in
 * a single bus message.
 */
final class GatewayVerticle extends VerticleBase {
  final GatewayConfig cfg;
  final TokenVerifier verifier;
  final SubjectLimits subjectLimits;
  final String node;
  final GatewayMetrics metrics;
  ChannelHub hub;
  private Flusher flusher;
  private static volatile boolean directWritesWarned;
  final Map<String, ClientConnection> connections = new HashMap<>();
  EventBus bus;
  Fanout fanout;
  private HttpServer server;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();

  private final GatewayService service;
  /** Set by stop(): new handshakes are refused while existing clients are told to reconnect elsewhere. */
  private boolean draining;

  GatewayVerticle(GatewayService service, GatewayConfig cfg, TokenVerifier verifier, SubjectLimits subjectLimits,
      GatewayMetrics metrics, String node) {
    this.service = service;
    this.metrics = metrics;
    this.cfg = cfg;
    this.verifier = verifier;
    this.subjectLimits = subjectLimits;
    this.node = node;
  }

  @Override
  public Future<?> start() {
    bus = vertx.eventBus();
    PublicationCodec.register(bus);
    fanout = Fanout.of(vertx);
    flusher = new Flusher(((ContextInternal) context).nettyEventLoop());
    hub = new ChannelHub(vertx, service, this::storedAfter, metrics);
    consumers.add(bus.<JsonObject>consumer(Addresses.AUTH_REVOKED, m -> closeRevoked(m.body())));
    vertx.setPeriodic(cfg.sweepIntervalMs(), t -> sweep(System.currentTimeMillis()));
    vertx.setPeriodic(cfg.presenceRefreshMs(), t -> refreshPresence());
    server = vertx.createHttpServer(serverOptions())
        .webSocketHandshakeHandler(this::handshake)
        .requestHandler(req -> req.response().setStatusCode(404)
            .putHeader("content-type", "application/json")
            .end("{\"error\":{\"code\":\"not_found\",\"message\":\"WebSocket endpoint is /ws\"}}"));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .compose(v -> server.listen());
  }

  private HttpServerOptions serverOptions() {
    // Netty's own limits sit above ours so an oversize frame still reaches us and gets a disconnect frame before
    // the 1009 close; anything past Netty's limit is closed by Netty with 1009 directly.
    int nettyLimit = cfg.maxFrameBytes() * 2 + 1024;
    return new HttpServerOptions()
        .setHost(cfg.host())
        .setPort(cfg.port())
        .setMaxWebSocketFrameSize(nettyLimit)
        .setMaxWebSocketMessageSize(nettyLimit)
        .setWebSocketSubProtocols(List.of("switchboard.v1"))
        // no permessage/perframe deflate: frames are pre-encoded once and shared by every subscriber (compressing
        // per connection would undo that), and small JSON messages gain little for the CPU it costs
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
        .setTcpNoDelay(true);
  }

  /** Port actually bound (tests configure port 0). */
  int actualPort() {
    return server.actualPort();
  }

  /** Fan-out entry point, called on this verticle's event loop by the node's consumer. */
  void deliver(Publication p) {
    metrics.deliveries.increment(hub.deliver(p));
  }

  /** Hands a publication to this verticle's event loop. */
  void deliverOnLoop(Publication p) {
    context.runOnContext(v -> deliver(p));
  }

  /** The store's publications on {@code channel} after a position (for the hub's backfill). */
  private Future<JsonObject> storedAfter(String channel, long offset, String epoch) {
    JsonObject q = new JsonObject().put("channel", channel).put("recover", new JsonObject().put("offset", offset).put("epoch", epoch));
    return bus.<JsonObject>request(Addresses.STORE_POSITION, new JsonObject().put("channels", new JsonArray().add(q)),
            new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(cfg.requestTimeoutMs()))
        .map(m -> m.body().getJsonArray("channels").getJsonObject(0));
  }

  private void handshake(ServerWebSocketHandshake h) {
    if (draining) {
      h.reject(503);
      return;
    }
    if (!"/ws".equals(h.path())) {
      h.reject(404);
      return;
    }
    h.accept().onSuccess(this::open);
  }

  private void open(ServerWebSocket ws) {
    long now = System.currentTimeMillis();
    ClientConnection c = new ClientConnection(Ids.hex(16), ws, now, cfg.publishBurst(), metrics, flusher);
    metrics.connections.incrementAndGet();
    c.nextPingAt = now + cfg.pingIntervalMs();
    if (!DirectWrites.apply(ws) && !directWritesWarned) {
      directWritesWarned = true;
      System.getLogger(GatewayVerticle.class.getName()).log(System.Logger.Level.WARNING,
          "gateway: Vert.x's per-connection write queue could not be replaced (Vert.x version changed?): ~4 KB more per connection");
    }
    ws.setWriteQueueMaxSize(cfg.maxQueueBytes());
    connections.put(c.id, c);
    new NativeSession(this, c).start(ws.headers().get("Authorization"));
  }

  /** Called once per connection when its socket closed, whoever closed it. */
  void closed(ClientConnection c) {
    if (connections.remove(c.id) != null) metrics.connections.decrementAndGet();
    c.closing = true;
    if (c.claims != null && c.connected) subjectLimits.release(c.subject());
    JsonArray presenceChannels = new JsonArray();
    for (Subscription s : c.subscriptions.values()) {
      hub.remove(s);
      if (s.presence) presenceChannels.add(s.channel);
    }
    c.subscriptions.clear();
    if (!presenceChannels.isEmpty()) {
      c.presence(bus, Addresses.PRESENCE_LEAVE, new JsonObject().put("client", c.id).put("channels", presenceChannels));
    }
  }

  /** Housekeeping for every connection of this loop: connect timeout, ping/pong, token expiry. */
  private void sweep(long now) {
    for (ClientConnection c : new ArrayList<>(connections.values())) {
      if (c.closing) {
        c.forceCloseIfLingering(now);
        continue;
      }
      if (!c.connected) {
        if (!c.connecting && now - c.openedAt >= cfg.connectTimeoutMs()) c.disconnect(CloseCode.CONNECT_TIMEOUT, "connect timeout");
        continue;
      }
      if (c.claims.expiredAt(now)) {
        c.disconnect(CloseCode.TOKEN_EXPIRED, "token expired");
        continue;
      }
      if (c.pingSentAt > 0) {
        if (now - c.pingSentAt >= cfg.pongTimeoutMs()) c.disconnect(CloseCode.NO_PONG, "no pong");
      } else if (now >= c.nextPingAt) {
        c.pingSentAt = now;
        c.socket.writePing(io.vertx.core.buffer.Buffer.buffer());
      }
    }
    verifier.dropExpired(now / 1000);
  }

  /** One message keeps every presence member of this event loop alive. */
  private void refreshPresence() {
    JsonArray clients = new JsonArray();
    for (ClientConnection c : connections.values()) {
      if (c.closing) continue;
      for (Subscription s : c.subscriptions.values()) {
        if (s.presence) {
          clients.add(c.id);
          break;
        }
      }
    }
    if (!clients.isEmpty()) {
      bus.send(Addresses.PRESENCE_REFRESH, new JsonObject().put("node", node).put("clients", clients));
    }
  }

  private void closeRevoked(JsonObject r) {
    String subject = r.getString("subject");
    String tokenId = r.getString("tokenId");
    if (subject != null) verifier.revokeSubject(subject, r.getLong("revokedAt", System.currentTimeMillis() / 1000));
    if (tokenId != null) verifier.revokeToken(tokenId, r.getLong("exp", Long.MAX_VALUE / 2));
    for (ClientConnection c : new ArrayList<>(connections.values())) {
      if (c.claims != null && verifier.revoked(c.claims)) c.disconnect(CloseCode.FORBIDDEN, "token revoked");
    }
  }

  /**
   * Drain (SIGTERM, undeploy): refuse new connections, tell every client to reconnect elsewhere (4504), let their
   * queues flush while they close, then close the server. Bounded by {@link #DRAIN_MS}.
   */
  @Override
  public Future<?> stop() {
    draining = true;
    for (ClientConnection c : new ArrayList<>(connections.values())) c.disconnect(CloseCode.DRAINING, "node draining");
    io.vertx.core.Promise<Void> drained = io.vertx.core.Promise.promise();
    long deadline = System.currentTimeMillis() + DRAIN_MS;
    vertx.setPeriodic(20, t -> {
      if (connections.isEmpty() || System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(t);
        drained.tryComplete();
      }
    });
    return drained.future().compose(v -> server == null ? Future.succeededFuture() : server.close());
  }

  static final long DRAIN_MS = 3000;
}
