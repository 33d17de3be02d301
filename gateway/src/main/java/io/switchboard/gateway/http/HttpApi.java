package io.switchboard.gateway.http;

import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.transport.Endpoint;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The gateway's HTTP APIs on the gateway port (docs/http.md): REST for clients ({@code /v1/channels/…},
 * {@code /v1/presence/heartbeat}), the server API for backends ({@code /api/…}) and the receive-only fallbacks of
 * the native dialect ({@code /v1/tickets}, {@code /v1/sse}, {@code /v1/stream}, {@code /v1/poll}). One instance per
 * gateway event loop.
 */
public final class HttpApi implements Endpoint {
  private final ClientRest rest;
  private final ServerApi server;
  private final Streams streams;

  public HttpApi(GatewayLoop loop) {
    JsonObject config = Vertx.currentContext() == null ? new JsonObject() : Vertx.currentContext().config();
    JsonObject g = config.getJsonObject("gateway", new JsonObject());
    long presenceTimeout = config.getJsonObject("presence", new JsonObject()).getLong("timeoutSeconds", 60L);
    SubjectBuckets buckets = new SubjectBuckets(loop.cfg.publishRatePerSecond(), loop.cfg.publishBurst());
    loop.vertx.setPeriodic(60_000, t -> buckets.sweep(System.currentTimeMillis()));
    this.rest = new ClientRest(loop, buckets, presenceTimeout);
    // the app backends' HTTP proxies, when configured, are the loop's backend (rpc, publish, subscribe, connect),
    // each app's own (apps[].proxies) or the proxy section's
    AppProxies proxies = AppProxies.of(loop, config.getJsonObject("proxy"));
    if (proxies != null) loop.backend = proxies;
    PollHub polls = new PollHub(loop, io.switchboard.gateway.core.GatewayShared.of(loop, "heldPolls",
        java.util.concurrent.atomic.AtomicInteger::new), g.getInteger("maxHeldPolls", 0));
    this.server = new ServerApi(loop, new GatewayApiCommands(loop, polls));
    this.streams = new Streams(loop, new Tickets(loop, g.getLong("ticketTtlMs", 30_000L)), g.getLong("maxPollWaitSeconds", 60L), polls);
  }

  @Override
  public void routes(Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(Http.MAX_BODY_BYTES);
    rest.routes(router, body);
    server.routes(router, body);
    streams.routes(router);
  }
}
