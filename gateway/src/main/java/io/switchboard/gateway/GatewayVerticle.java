package io.switchboard.gateway;

import io.switchboard.common.Addresses;
import io.switchboard.common.CloseCode;
import io.switchboard.common.Ids;
import io.switchboard.common.Publication;
import io.switchboard.common.PublicationCodec;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
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
  final ChannelHub hub = new ChannelHub();
  final Map<String, ClientConnection> connections = new HashMap<>();
  EventBus bus;
  private HttpServer server;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();

  GatewayVerticle(GatewayConfig cfg, TokenVerifier verifier, SubjectLimits subjectLimits, GatewayMetrics metrics, String node) {
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
    consumers.add(bus.<Publication>consumer(Addresses.GATEWAY_FANOUT, m -> metrics.deliveries.increment(hub.deliver(m.body()))));
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
        .setTcpNoDelay(true);
  }

  /** Port actually bound (tests configure port 0). */
  int actualPort() {
    return server.actualPort();
  }

  private void handshake(ServerWebSocketHandshake h) {
    if (!"/ws".equals(h.path())) {
      h.reject(404);
      return;
    }
    h.accept().onSuccess(this::open);
  }

  private void open(ServerWebSocket ws) {
    long now = System.currentTimeMillis();
    ClientConnection c = new ClientConnection(Ids.hex(16), ws, now, cfg.publishBurst(), metrics);
    metrics.connections.incrementAndGet();
    c.nextPingAt = now + cfg.pingIntervalMs();
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
      bus.send(Addresses.PRESENCE_LEAVE, new JsonObject().put("client", c.id).put("channels", presenceChannels));
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

  @Override
  public Future<?> stop() {
    for (ClientConnection c : new ArrayList<>(connections.values())) c.disconnect(CloseCode.GOING_AWAY, "server shutting down");
    return server == null ? Future.succeededFuture() : server.close();
  }
}
