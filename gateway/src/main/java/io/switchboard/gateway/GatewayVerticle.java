package io.switchboard.gateway;

import io.switchboard.common.Addresses;
import io.switchboard.common.Publication;
import io.switchboard.common.PublicationCodec;
import io.switchboard.gateway.core.Apps;
import io.switchboard.gateway.core.GatewayConfig;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.GatewayMetrics;
import io.switchboard.gateway.core.SubjectLimits;
import io.switchboard.gateway.protocol.centrifuge.CentrifugeEndpoint;
import io.switchboard.gateway.protocol.nativev1.NativeEndpoint;
import io.switchboard.gateway.protocol.pubnub.PubNubEndpoint;
import io.switchboard.gateway.protocol.pusher.PusherEndpoint;
import io.switchboard.gateway.transport.Endpoint;
import io.switchboard.gateway.transport.Flusher;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * One gateway event loop: the composition root. It accepts connections on the shared port, picks the dialect and
 * transport by path ({@code /ws}: native v1 over WebSocket), and hands sessions to the loop's session core
 * ({@link GatewayLoop}), which also receives this loop's share of the fan-out.
 */
final class GatewayVerticle extends VerticleBase {
  private final GatewayService service;
  private final GatewayConfig cfg;
  private final Apps apps;
  private final TokenVerifier verifier;
  private final SubjectLimits subjectLimits;
  private final GatewayMetrics metrics;
  private final String node;
  /** The first instance consumes the node's fan-out address on its loop (see GatewayService#consumeDeliveries). */
  private final boolean receivesDeliveries;
  /** Volatile: the node's fan-out consumer (another loop) asks it whether this loop has a channel ({@link #has}). */
  private volatile GatewayLoop loop;
  private List<Endpoint> endpoints;
  private HttpServer server;

  GatewayVerticle(GatewayService service, GatewayConfig cfg, Apps apps, TokenVerifier verifier, SubjectLimits subjectLimits,
      GatewayMetrics metrics, String node, boolean receivesDeliveries) {
    this.service = service;
    this.cfg = cfg;
    this.apps = apps;
    this.verifier = verifier;
    this.subjectLimits = subjectLimits;
    this.metrics = metrics;
    this.node = node;
    this.receivesDeliveries = receivesDeliveries;
  }

  @Override
  public Future<?> start() {
    PublicationCodec.register(vertx.eventBus());
    Flusher flusher = new Flusher(((ContextInternal) context).nettyEventLoop());
    loop = new GatewayLoop(vertx, cfg, apps, verifier, subjectLimits, metrics, node, service, flusher);
    String fencedFor = service.fencedFor();
    if (fencedFor != null) loop.fence(true, fencedFor);
    // every dialect's way in, in the order asked
    endpoints = List.of(new NativeEndpoint(loop), new PusherEndpoint(loop), new CentrifugeEndpoint(loop),
        new io.switchboard.gateway.http.HttpApi(loop), new PubNubEndpoint(loop));
    Router router = Router.router(vertx);
    router.route().handler(this::encodedBodies);
    for (Endpoint e : endpoints) e.routes(router);
    router.route().handler(this::notFound);
    MessageConsumer<JsonObject> revoked = vertx.eventBus().consumer(Addresses.AUTH_REVOKED, m -> loop.revoked(m.body()));
    MessageConsumer<JsonObject> terminate = vertx.eventBus().consumer(Addresses.GATEWAY_DISCONNECT, m -> loop.terminate(m.body()));
    server = vertx.createHttpServer(serverOptions())
        .webSocketHandshakeHandler(this::handshake)
        .requestHandler(router);
    Future<Void> deliveries = receivesDeliveries ? service.consumeDeliveries(this).completion() : Future.succeededFuture();
    return Future.all(revoked.completion(), terminate.completion(), deliveries).compose(v -> server.listen());
  }

  private HttpServerOptions serverOptions() {
    return new HttpServerOptions()
        .setHost(cfg.host())
        .setPort(cfg.port())
        // the transport re-assembles messages itself with the real limit (see WebSocketTransport): Netty's frame limit
        // is replaced per connection, and Vert.x never aggregates (a frame handler is used)
        .setMaxWebSocketFrameSize(cfg.maxFrameBytes())
        .setMaxWebSocketMessageSize(cfg.maxFrameBytes())
        .setWebSocketSubProtocols(List.of("switchboard.v1"))
        // no permessage/perframe deflate: frames are pre-encoded once and shared by every subscriber (compressing
        // per connection would undo that), and small JSON messages gain little for the CPU it costs
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
        .setTcpNoDelay(true)
        // PubNub's SDK publishes by GET with the JSON in the path (up to 32 KiB, URL-encoded)
        .setMaxInitialLineLength(128 * 1024)
        // no decompressor in every connection's pipeline (~130 B of each WebSocket, stream and held poll): the one
        // client that compresses request bodies, the PubNub SDK's deflated publish POST, is inflated by its route;
        // any other encoded body is refused with bad_request (encodedBodies)
        .setDecompressionSupported(false);
  }

  /** PubNub's publish POST inflates its own body; every other request with an encoded body: bad_request, naming why. */
  private void encodedBodies(RoutingContext rc) {
    String encoding = rc.request().getHeader("content-encoding");
    if (encoding == null || encoding.isBlank() || encoding.trim().equalsIgnoreCase("identity")
        || rc.request().method() == io.vertx.core.http.HttpMethod.POST && rc.request().path().startsWith("/publish/")) {
      rc.next();
      return;
    }
    rc.response().setStatusCode(io.switchboard.common.ErrorCode.BAD_REQUEST.httpStatus())
        .putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", io.switchboard.common.ServiceError.badRequest("Content-Encoding "
            + io.switchboard.common.Channels.abbreviate(encoding) + " is not accepted: send the body uncompressed").toJson()).encode());
  }

  /** Port actually bound (tests configure port 0). */
  int actualPort() {
    return server.actualPort();
  }

  /** This loop's subscriber counts (see {@link io.switchboard.common.Addresses#gatewayCounts}), on its own loop. */
  Future<java.util.Map<String, Integer>> counts(java.util.Collection<String> names, String prefix) {
    io.vertx.core.Promise<java.util.Map<String, Integer>> p = io.vertx.core.Promise.promise();
    context.runOnContext(v -> {
      java.util.Map<String, Integer> m = new java.util.HashMap<>();
      loop.hub.count(names, prefix, m);
      p.complete(m);
    });
    return p.future();
  }

  /** This loop's publications seen per channel starting with prefix (the admin's publish rates), on its own loop. */
  Future<java.util.Map<String, Long>> published(String prefix) {
    io.vertx.core.Promise<java.util.Map<String, Long>> p = io.vertx.core.Promise.promise();
    context.runOnContext(v -> {
      java.util.Map<String, Long> m = new java.util.HashMap<>();
      loop.hub.published(prefix, m);
      p.complete(m);
    });
    return p.future();
  }

  /** Raises or lifts the cluster fence on this verticle's event loop. */
  void fence(boolean up, String why) {
    // an instance still starting reads the service's fence state when its loop exists (see start)
    io.vertx.core.Context c = context;
    if (c != null) c.runOnContext(v -> {
      if (loop != null) loop.fence(up, why);
    });
  }

  /** Asks this verticle's event loop for a tail check soon (see GatewayLoop#checkTailsSoon). */
  void checkTailsSoon() {
    io.vertx.core.Context c = context;
    if (c != null) c.runOnContext(v -> {
      if (loop != null) loop.checkTailsSoon();
    });
  }

  /** Hands a publication to this verticle's event loop. */
  void deliverOnLoop(Publication p) {
    // an instance not started yet has no subscribers (the fan-out consumer may start on instance 0 before it)
    io.vertx.core.Context c = context;
    if (c != null) c.runOnContext(v -> {
      if (loop != null) loop.deliver(p);
    });
  }

  /** Whether this verticle's loop has subscribers of {@code channel} (any thread; false before it started). */
  boolean has(String channel) {
    GatewayLoop l = loop;
    return l != null && l.hub.has(channel);
  }

  /** Delivers a publication now: the caller runs on this verticle's event loop (the node's fan-out consumer). */
  void deliverHere(Publication p) {
    loop.deliver(p);
  }

  private void handshake(ServerWebSocketHandshake h) {
    // memory per connection: once upgraded, the HTTP connection below keeps no multi-producer write queue (see
    // DirectWrites); a refused upgrade leaves the connection as it is, for the HTTP requests that may follow on it
    if (h instanceof Future<?> upgraded) upgraded.onSuccess(ws -> io.switchboard.gateway.transport.DirectWrites.applyToHandshake(h));
    if (loop.draining()) {
      h.reject(503);
      return;
    }
    for (Endpoint e : endpoints) {
      if (e.handshake(h)) return;
    }
    h.reject(404);
  }

  private void notFound(RoutingContext rc) {
    rc.response().setStatusCode(404)
        .putHeader("content-type", "application/json")
        .end("{\"error\":{\"code\":\"not_found\",\"message\":\"no such endpoint: " + NativeEndpoint.PATH
            + " is the native WebSocket endpoint\"}}");
  }

  /**
   * Drain (SIGTERM, undeploy): refuse new connections, tell every client to reconnect elsewhere (4504), let their
   * queues flush while they close, then close the server. Bounded by {@link #DRAIN_MS}.
   */
  @Override
  public Future<?> stop() {
    return loop.drain(DRAIN_MS).compose(v -> server == null ? Future.succeededFuture() : server.close());
  }

  static final long DRAIN_MS = 3000;
}
