package io.switchboard.gateway.http;

import io.switchboard.gateway.transport.Flusher;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.SessionProtocol;
import io.switchboard.gateway.core.Subscriptions;
import io.switchboard.gateway.protocol.nativev1.NativeDialect;
import io.switchboard.gateway.protocol.nativev1.NativeStreams;
import io.switchboard.gateway.transport.Framing;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The receive-only fallbacks of the native dialect for clients without WebSocket: Server-Sent Events
 * ({@code GET /v1/sse}), NDJSON streaming ({@code GET /v1/stream}) and long-poll ({@code GET /v1/poll}). A stream
 * is a core {@link Session} (so connection limits, subscriptions, recovery, fan-out with encode-once and the
 * slow-client cut are the WebSocket ones) on an HTTP transport; a held poll is a lighter waiter of the loop's
 * {@link PollHub}.
 *
 * <p>Positions: every stored publication has one, {@code <offset>:<epoch>:<channel>} (the SSE id); {@code since}
 * takes such positions (space-separated, one per channel, repeatable) and {@code Last-Event-ID} one; the stream
 * then delivers what was missed after each, in order, before anything live — or says {@code recovered:false} for a
 * channel whose position is gone.
 */
final class Streams {
  /** SSE reconnection delay suggested to EventSource clients. */
  static final long RETRY_MS = 2000;

  private final GatewayLoop loop;
  private final Tickets tickets;
  private final long maxPollWaitSeconds;
  private final Flusher flusher;
  private final PollHub polls;

  Streams(GatewayLoop loop, Tickets tickets, long maxPollWaitSeconds, PollHub polls) {
    this.loop = loop;
    this.polls = polls;
    this.flusher = loop.flusher; // one flush task per event loop for every kind of connection
    this.tickets = tickets;
    this.maxPollWaitSeconds = maxPollWaitSeconds;
  }

  void routes(Router r) {
    r.post("/v1/tickets").handler(Http.answer(201, ctx -> {
      String token = Http.bearer(ctx.request());
      if (token == null) return Future.failedFuture(Http.noToken());
      return loop.verifier.verify(token).map(c -> tickets.mint(token));
    })).failureHandler(Http::failed);
    r.get("/v1/sse").handler(ctx -> stream(ctx, Framing.SSE_EVENT)).failureHandler(Http::failed);
    r.get("/v1/stream").handler(ctx -> stream(ctx, Framing.NDJSON_CHUNK)).failureHandler(Http::failed);
    r.get("/v1/poll").handler(this::poll).failureHandler(Http::failed);
  }

  // --- what to subscribe --------------------------------------------------------------------------------

  /** The channels of {@code channels=} (comma lists, repeatable; a name with {@code #} must be its own parameter). */
  private List<String> channels(HttpServerRequest r) {
    List<String> out = new ArrayList<>();
    for (String v : r.params().getAll("channels")) {
      if (v.indexOf('#') >= 0) out.add(v.trim());
      else out.addAll(ClientRest.list(List.of(v)));
    }
    if (out.isEmpty()) throw ServiceError.badRequest("channels is required: channels=<name>[,<name>…]");
    loop.subscriptions.checkBatch(out.size());
    return out;
  }

  /** Positions to resume from, per channel: {@code since} then {@code Last-Event-ID} (the newer word for its channel). */
  static Map<String, long[]> since(HttpServerRequest r, Map<String, String> epochs) {
    Map<String, long[]> out = new LinkedHashMap<>();
    List<String> words = new ArrayList<>();
    for (String v : r.params().getAll("since")) words.addAll(List.of(v.trim().split("\\s+")));
    String last = r.getHeader("Last-Event-ID");
    if (last != null && !last.isBlank()) words.add(last.trim());
    for (String w : words) {
      if (w.isEmpty()) continue;
      String[] p = w.split(":", 3);
      if (p.length < 3 || p[1].isEmpty() || p[2].isEmpty()) {
        throw ServiceError.badRequest("position '" + io.switchboard.common.Channels.abbreviate(w) + "' is not <offset>:<epoch>:<channel>");
      }
      out.put(p[2], new long[] {ClientRest.number("position offset", p[0])});
      epochs.put(p[2], p[1]);
    }
    return out;
  }

  private List<Subscriptions.Request> requests(HttpServerRequest r) {
    List<String> channels = channels(r);
    Map<String, String> epochs = new LinkedHashMap<>();
    Map<String, long[]> since = since(r, epochs);
    for (String ch : since.keySet()) {
      if (!channels.contains(ch)) throw ServiceError.badRequest("position given for " + ch + ", which is not in channels");
    }
    List<Subscriptions.Request> out = new ArrayList<>();
    for (String ch : channels) {
      long[] at = since.get(ch);
      out.add(at == null ? new Subscriptions.Request(ch, null, null) : new Subscriptions.Request(ch, at[0], epochs.get(ch)));
    }
    return out;
  }

  /** The token of a stream request: a ticket in the URL (EventSource cannot send headers) or a bearer header. */
  private Future<String> token(HttpServerRequest r) {
    String ticket = r.getParam("ticket");
    if (ticket != null && !ticket.isEmpty()) return tickets.redeem(ticket);
    String bearer = Http.bearer(r);
    if (bearer != null) return Future.succeededFuture(bearer);
    return Future.failedFuture(new ServiceError(ErrorCode.UNAUTHORIZED,
        "no credentials: send ticket=<ticket from POST /v1/tickets> or Authorization: Bearer <token>"));
  }

  // --- SSE and NDJSON streaming -----------------------------------------------------------------------

  private void stream(RoutingContext ctx, Framing framing) {
    HttpServerRequest r = ctx.request();
    List<Subscriptions.Request> wanted;
    try {
      if (loop.draining()) throw new ServiceError(ErrorCode.UNAVAILABLE, "node draining: reconnect elsewhere");
      if (r.version() != io.vertx.core.http.HttpVersion.HTTP_1_1) {
        throw ServiceError.badRequest("event streams are served over HTTP/1.1 (chunked); this request is " + r.version());
      }
      wanted = requests(r);
    } catch (ServiceError e) {
      Http.error(ctx, e);
      return;
    }
    r.pause();
    token(r).onComplete(t -> {
      r.resume();
      if (t.failed()) {
        Http.error(ctx, t.cause());
        return;
      }
      HttpStreamTransport transport = new HttpStreamTransport(r, framing, loop.cfg.maxQueueBytes(), flusher);
      SessionProtocol protocol = framing == Framing.SSE_EVENT ? NativeStreams.SSE : NativeDialect.INSTANCE;
      Session s = new Session(Ids.hex(16), loop, loop.apps.defaultApp(), transport, protocol);
      loop.register(s);
      transport.listen(s);
      loop.authenticate(s, t.result()).onComplete(auth -> {
        if (auth.failed()) {
          Http.error(ctx, auth.cause()); // before any byte of the stream: a plain HTTP error
          transport.closed();
          return;
        }
        if (s.closing()) return;
        r.response().setStatusCode(200).setChunked(true)
            .putHeader("content-type", framing == Framing.SSE_EVENT ? "text/event-stream; charset=utf-8" : "application/x-ndjson")
            .putHeader("cache-control", "no-cache, no-transform")
            .putHeader("x-accel-buffering", "no");
        // the head goes out now: a client learns the stream is open before the first message
        transport.start(framing == Framing.SSE_EVENT ? "retry: " + RETRY_MS + "\n\n" : null);
        loop.subscriptions.subscribe(s, wanted).onComplete(ar -> {
          Subscriptions.Established est = ar.result();
          NativeStreams.send(s, NativeStreams.outcomes(est).put("client", s.id).put("subject", s.subject()));
          loop.subscriptions.goLive(s, est);
        });
      });
    });
  }

  // --- long-poll -------------------------------------------------------------------------------------

  /**
   * One poll: answers at once when anything is newer than {@code since} (or a channel is refused or cannot be
   * recovered), else holds until a publication arrives or {@code wait} seconds pass (see {@link PollHub}). The
   * answer carries the messages, every channel's next position and the {@code since} string to send next.
   */
  private void poll(RoutingContext ctx) {
    HttpServerRequest r = ctx.request();
    List<Subscriptions.Request> wanted;
    long waitMs;
    String token = Http.bearer(r);
    try {
      if (token == null) throw Http.noToken();
      if (loop.draining()) throw new ServiceError(ErrorCode.UNAVAILABLE, "node draining: poll elsewhere");
      wanted = requests(r);
      String w = r.getParam("wait");
      long wait = w == null ? 25 : ClientRest.number("wait", w);
      if (wait < 0 || wait > maxPollWaitSeconds) throw ServiceError.badRequest("wait must be between 0 and " + maxPollWaitSeconds + " seconds");
      waitMs = wait * 1000;
    } catch (ServiceError e) {
      Http.error(ctx, e);
      return;
    }
    // what a held poll keeps is its connection: the request's headers (the token) are not needed past here
    r.headers().remove("authorization");
    polls.verify(token).onComplete(ar -> {
      if (ar.failed()) {
        Http.error(ctx, ar.cause());
        return;
      }
      if (r.response().closed()) return;
      PollHub.Waiter waiter;
      try {
        waiter = polls.admit(r, ar.result(), wanted);
      } catch (ServiceError e) {
        Http.error(ctx, e);
        return;
      }
      polls.start(waiter, waitMs);
    });
  }
}
