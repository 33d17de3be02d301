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
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The receive-only fallbacks of the native dialect for clients without WebSocket: Server-Sent Events
 * ({@code GET /v1/sse}), NDJSON streaming ({@code GET /v1/stream}) and long-poll ({@code GET /v1/poll}). Each is a
 * core {@link Session} (so connection limits, subscriptions, recovery, fan-out with encode-once and the slow-client
 * cut are the WebSocket ones) on an HTTP transport.
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

  Streams(GatewayLoop loop, Tickets tickets, long maxPollWaitSeconds) {
    this.loop = loop;
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
   * One poll: subscribes (recovering from {@code since}), answers at once when anything is newer, else holds until
   * a publication arrives or {@code wait} seconds pass. The answer carries the messages, every channel's next
   * position and the {@code since} string to send next. Held polls are sessions: they count as connections (per
   * subject limit, metrics) and cost no timer and no store read while they wait.
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
    Poll p = new Poll(ctx);
    PollTransport transport = new PollTransport(r, loop.cfg.maxQueueBytes(), p::dataArrived);
    Session s = new Session(Ids.hex(16), loop, loop.apps.defaultApp(), transport, NativeDialect.INSTANCE);
    s.joinsPresence = false; // pollers are kept present by heartbeats, not by each poll
    p.session = s;
    p.transport = transport;
    loop.register(s);
    transport.listen(s);
    loop.authenticate(s, token).onComplete(auth -> {
      if (auth.failed()) {
        Http.error(ctx, auth.cause());
        transport.closed();
        return;
      }
      loop.subscriptions.subscribe(s, wanted).onComplete(ar -> {
        Subscriptions.Established est = ar.result();
        p.outcomes = est.outcomes();
        boolean tellNow = false;
        for (Subscriptions.Outcome o : est.outcomes()) {
          if (!o.ok() || Boolean.FALSE.equals(o.recovered())) tellNow = true;
          if (o.ok() && o.stored()) p.positions.put(o.channel(), new Object[] {o.offset(), o.epoch()});
        }
        p.live = true;
        loop.subscriptions.goLive(s, est);
        if (tellNow || p.pending) p.answer();
        else p.timer = loop.vertx.setTimer(Math.max(1, waitMs), t -> p.answer());
      });
    });
  }

  /** One held poll. */
  private final class Poll {
    final RoutingContext ctx;
    Session session;
    PollTransport transport;
    List<Subscriptions.Outcome> outcomes = List.of();
    /** channel → {offset, epoch} to answer with: the subscribe position, advanced by the messages answered. */
    final Map<String, Object[]> positions = new LinkedHashMap<>();
    boolean live;
    boolean pending;
    boolean answered;
    long timer = -1;

    Poll(RoutingContext ctx) {
      this.ctx = ctx;
    }

    /** A message for this poll: answer on the next turn of the loop, so a burst (a recovery) goes in one answer. */
    void dataArrived() {
      if (!live) {
        pending = true;
        return;
      }
      if (pending) return;
      pending = true;
      loop.vertx.runOnContext(v -> answer());
    }

    void answer() {
      if (answered) return;
      answered = true;
      if (timer >= 0) loop.vertx.cancelTimer(timer);
      List<byte[]> lines = transport.take();
      Buffer body = Buffer.buffer(256 + lines.stream().mapToInt(b -> b.length + 1).sum());
      body.appendString("{\"events\":[");
      for (int i = 0; i < lines.size(); i++) {
        if (i > 0) body.appendByte((byte) ',');
        body.appendBytes(lines.get(i));
        advance(lines.get(i));
      }
      JsonObject pos = new JsonObject();
      StringBuilder next = new StringBuilder();
      for (var e : positions.entrySet()) {
        pos.put(e.getKey(), new JsonObject().put("offset", e.getValue()[0]).put("epoch", e.getValue()[1]));
        if (next.length() > 0) next.append(' ');
        next.append(NativeStreams.position((Long) e.getValue()[0], (String) e.getValue()[1], e.getKey()));
      }
      JsonArray chans = new JsonArray();
      for (Subscriptions.Outcome o : outcomes) {
        JsonObject c = new JsonObject().put("channel", o.channel()).put("ok", o.ok());
        if (!o.ok()) c.put("error", o.error().toJson());
        if (o.recovered() != null) c.put("recovered", o.recovered());
        chans.add(c);
      }
      String tail = new JsonObject().put("positions", pos).put("since", next.toString()).put("channels", chans).encode();
      body.appendString("],").appendString(tail.substring(1), StandardCharsets.UTF_8.name());
      var resp = ctx.response();
      if (!resp.ended() && !resp.closed()) {
        resp.setStatusCode(200).putHeader("content-type", "application/json").putHeader("cache-control", "no-store").end(body);
      }
      session.disconnect(io.switchboard.gateway.core.Disconnect.NORMAL, "poll answered");
      transport.closed();
    }

    /** A stored event's position moves its channel's next position forward. */
    private void advance(byte[] line) {
      JsonObject e = new JsonObject(Buffer.buffer(line));
      if (!"event".equals(e.getString("type")) || e.getValue("offset") == null || e.getString("epoch") == null) return;
      Object[] cur = positions.get(e.getString("channel"));
      long off = e.getLong("offset");
      if (cur == null || !e.getString("epoch").equals(cur[1]) || off > (Long) cur[0]) {
        positions.put(e.getString("channel"), new Object[] {off, e.getString("epoch")});
      }
    }
  }
}
