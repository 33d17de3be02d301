package io.switchboard.gateway.protocol.centrifuge;

import io.switchboard.common.Ids;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.transport.Endpoint;
import io.switchboard.gateway.transport.Framing;
import io.switchboard.gateway.transport.WebSocketTransport;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Centrifuge client protocol v2 (JSON), in the default app, on Centrifugo's paths:
 * <ul>
 *   <li>WebSocket at {@code /connection/websocket}: an unmodified centrifuge-js v5 connects here;</li>
 *   <li>bidirectional emulation where WebSocket is blocked: {@code POST /connection/http_stream} (the body holds
 *       the connect command; the response streams newline-delimited replies) and {@code GET /connection/sse}
 *       ({@code cf_connect} holds it; replies are Server-Sent Events), with the client's later commands POSTed to
 *       {@code /emulation} as {@code {session, node, data}}.</li>
 * </ul>
 *
 * <p>Emulation routing: each emulation session listens on the event bus at
 * {@link #EMULATION_ADDRESS}{@code <session id>}, registered from the session's event loop, so an {@code /emulation}
 * request reaching any event loop — or any gateway JVM of a cluster — is handed to the session on its own loop
 * (no sticky sessions needed).
 */
public final class CentrifugeEndpoint implements Endpoint {
  public static final String PATH = "/connection/websocket";
  public static final String HTTP_STREAM_PATH = "/connection/http_stream";
  public static final String SSE_PATH = "/connection/sse";
  public static final String EMULATION_PATH = "/emulation";
  static final String EMULATION_ADDRESS = "centrifuge.emulation.";
  private final GatewayLoop loop;
  private final CentrifugeDialect dialect;
  private final CentrifugeDialect emulationDialect;

  public CentrifugeEndpoint(GatewayLoop loop) {
    this.loop = loop;
    DeltaChannels deltas = new DeltaChannels();
    this.dialect = new CentrifugeDialect(loop, deltas, false);
    this.emulationDialect = new CentrifugeDialect(loop, deltas, true);
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

  // --- bidirectional emulation ----------------------------------------------------------------------

  @Override
  public void routes(Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(loop.cfg.maxFrameBytes());
    router.post(HTTP_STREAM_PATH).handler(body).handler(rc -> stream(rc, Framing.NDJSON, rc.body().asString()));
    router.get(SSE_PATH).handler(rc -> stream(rc, Framing.SSE, rc.request().getParam("cf_connect")));
    router.post(EMULATION_PATH).handler(body).handler(this::emulation);
  }

  /** Opens an emulation session whose first commands (connect) came with the opening request. */
  private void stream(RoutingContext rc, Framing framing, String initial) {
    if (loop.draining()) {
      error(rc, 503, "unavailable", "the gateway is draining: reconnect elsewhere");
      return;
    }
    if (initial == null || initial.isBlank()) {
      error(rc, 400, "bad_request", framing == Framing.SSE ? "cf_connect (the connect command) is required"
          : "the body must hold the connect command");
      return;
    }
    HttpServerRequest req = rc.request();
    EmulationTransport t = new EmulationTransport(req, framing, loop.cfg.maxQueueBytes());
    Session s = new Session(Ids.hex(16), loop, loop.apps.defaultApp(), t, emulationDialect);
    CentrifugeSession cs = new CentrifugeSession();
    s.dialectState = cs;
    loop.register(s);
    t.listen(s);
    MessageConsumer<String> inbox = loop.bus.consumer(EMULATION_ADDRESS + s.id, m -> {
      s.onText(m.body());
      m.reply(null);
    });
    cs.emulationInbox = inbox;
    // the client posts its next commands only after the connect answer: the inbox is registered by then
    inbox.completion().onComplete(ar -> {
      if (!s.closing()) s.onText(initial);
    });
  }

  /** {@code {session, node, data}}: the commands of an emulation session, handed to it wherever it lives. */
  private void emulation(RoutingContext rc) {
    JsonObject req;
    try {
      req = rc.body().asJsonObject();
    } catch (RuntimeException e) {
      req = null;
    }
    if (req == null || !(req.getValue("session") instanceof String session) || session.isEmpty()) {
      error(rc, 400, "bad_request", "body must be {session, node, data} with the session of the connect answer");
      return;
    }
    Object data = req.getValue("data");
    String commands = data instanceof String text ? text : data == null ? null : data.toString();
    if (commands == null || commands.isBlank()) {
      error(rc, 400, "bad_request", "data (the commands) is required");
      return;
    }
    loop.bus.request(EMULATION_ADDRESS + session, commands).onComplete(ar -> {
      if (ar.succeeded()) {
        rc.response().setStatusCode(204).end();
      } else if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
        error(rc, 404, "not_found", "no emulation session " + session + " (closed, or never opened)");
      } else {
        error(rc, 503, "unavailable", "the session did not take the commands: " + ar.cause().getMessage());
      }
    });
  }

  private static void error(RoutingContext rc, int status, String code, String message) {
    rc.response().setStatusCode(status).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)).encode());
  }
}
