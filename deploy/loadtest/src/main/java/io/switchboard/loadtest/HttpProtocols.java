package io.switchboard.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Switchboard's receive-only HTTP fallbacks as load-tool protocols, for the subscribers: Server-Sent Events
 * ({@code sse}: {@code GET /v1/sse}, one stream per client), the native long-poll ({@code longpoll}: {@code GET
 * /v1/poll} in a loop, the next poll from the answer's {@code since}) and the PubNub subscribe long-poll
 * ({@code pubnub}: {@code GET /v2/subscribe/{key}/{channel}/0} in a loop with the answer's timetoken, as the
 * {@code pubnub} SDK does). Publishers (and connect-only clients) are a backend speaking the native protocol over
 * WebSocket, whose publish answers carry the stored offset. Every subscriber has its own HTTP connection from the
 * worker's pool, on the worker's source address.
 */
final class HttpProtocols {
  private HttpProtocols() {}

  /** How long a held poll waits (the server allows up to 60 s by default). */
  static final int POLL_WAIT_SECONDS = 55;

  /** The base of the three: WebSocket for publishers, HTTP for subscribers. */
  abstract static class Base implements Protocol {
    @Override
    public String path(String channel) {
      return "/ws";
    }

    @Override
    public boolean webSocket(Conn conn) {
      return conn.channel == null;
    }

    @Override
    public Protocol.Session session(Conn conn) {
      return conn.channel == null ? new NativeProtocol.NativeSession(conn) : httpSession(conn);
    }

    abstract HttpSession httpSession(Conn conn);

    @Override
    public boolean acksPublishes() {
      return true;
    }

    @Override
    public boolean recovers() {
      return true;
    }
  }

  /** A subscriber over HTTP: its own requests on the worker's HTTP client. */
  abstract static class HttpSession extends Protocol.Session {
    boolean open = true;
    private boolean closingOnPurpose;
    /** The connection of the current request (closed to drop the client). */
    io.vertx.core.http.HttpConnection connection;

    HttpSession(Conn conn) {
      super(conn);
    }

    HttpClient http() {
      return conn.worker.streamClient(conn.localAddress);
    }

    Future<HttpClientResponse> get(String uri, String authorization) {
      RequestOptions o = new RequestOptions().setHost(conn.host).setPort(conn.port).setURI(uri);
      if (authorization != null) o.addHeader("Authorization", authorization);
      return http().request(o).compose(req -> {
        connection = req.connection();
        return req.send();
      });
    }

    @Override
    void onFrame(Buffer frame, long nowMicros) {
      // HTTP subscribers read their responses themselves
    }

    @Override
    void publish(String channel, String data, long nowMicros) {
      throw new UnsupportedOperationException("HTTP subscribers do not publish");
    }

    @Override
    boolean isOpen() {
      return open;
    }

    /** The server ended the stream or failed a poll: counted like a server close of a WebSocket. */
    void lost(int code) {
      if (!open) return;
      open = false;
      if (!closingOnPurpose) conn.worker.stats.closed(code);
    }

    @Override
    Future<Void> close() {
      closingOnPurpose = true;
      open = false;
      if (connection != null) return connection.close();
      return Future.succeededFuture();
    }
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  // --- SSE -----------------------------------------------------------------------------------------

  static final class Sse extends Base {
    @Override
    public String name() {
      return "sse";
    }

    @Override
    HttpSession httpSession(Conn conn) {
      return new SseSession(conn);
    }
  }

  static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  static final byte[] SUBSCRIBED = "{\"type\":\"subscribed\"".getBytes(StandardCharsets.US_ASCII);

  /** One EventSource: {@code data:} lines are native messages; the first is the subscribe outcome. */
  static final class SseSession extends HttpSession {
    private final Promise<JsonObject> subscribed = Promise.promise();
    private Buffer pending = Buffer.buffer();

    SseSession(Conn conn) {
      super(conn);
    }

    @Override
    Future<JsonObject> start(boolean recover) {
      String uri = "/v1/sse?channels=" + enc(conn.channel);
      if (recover && conn.epoch != null) uri += "&since=" + enc(conn.lastSeq + ":" + conn.epoch + ":" + conn.channel);
      get(uri, "Bearer " + conn.token).onComplete(ar -> {
        if (ar.failed()) {
          subscribed.tryFail(ar.cause());
          return;
        }
        HttpClientResponse r = ar.result();
        if (r.statusCode() != 200) {
          r.body().onComplete(b -> subscribed.tryFail("SSE " + r.statusCode() + " " + (b.succeeded() ? b.result() : "")));
          return;
        }
        r.handler(this::read);
        r.exceptionHandler(t -> { });
        r.endHandler(v -> lost(1006));
      });
      return subscribed.future();
    }

    /** Splits the stream into lines (a read may end mid-line) and handles each {@code data:} line. */
    private void read(Buffer b) {
      long now = Clock.epochMicros();
      Buffer in = pending.length() == 0 ? b : pending.appendBuffer(b);
      int start = 0;
      for (int i = 0, n = in.length(); i < n; i++) {
        if (in.getByte(i) != '\n') continue;
        if (i - start > DATA.length) line(in.slice(start, i), now);
        start = i + 1;
      }
      pending = start == in.length() ? Buffer.buffer() : in.getBuffer(start, in.length());
    }

    private void line(Buffer line, long now) {
      if (!Frames.startsWith(line, DATA)) return;
      Buffer frame = line.slice(DATA.length, line.length());
      if (Frames.startsWith(frame, NativeProtocol.EVENT_PREFIX)) {
        long offset = Frames.longValue(frame, Frames.OFFSET);
        conn.delivered(Frames.longValue(frame, Frames.TS), offset > 0 ? offset : -1, now);
      } else if (Frames.startsWith(frame, SUBSCRIBED)) {
        subscribed(new JsonObject(frame).getJsonArray("channels").getJsonObject(0));
      }
    }

    private void subscribed(JsonObject ch) {
      if (!ch.getBoolean("ok", false)) {
        subscribed.tryFail("subscribe " + conn.channel + " failed: " + ch.getJsonObject("error"));
        return;
      }
      positioned(conn, ch);
      subscribed.tryComplete(ch);
    }
  }

  /** The native subscribe outcome {@code {offset, epoch, recovered?}} moves the client's position (as over WebSocket). */
  static void positioned(Conn conn, JsonObject ch) {
    long offset = ch.getLong("offset", 0L);
    if (ch.getBoolean("recovered", false)) {
      conn.recoverHead = offset;
    } else if (ch.containsKey("recovered")) {
      if (offset > conn.lastSeq) conn.worker.stats.gaps.add(offset - conn.lastSeq);
      conn.lastSeq = offset;
      conn.recoverHead = offset;
    } else {
      conn.lastSeq = offset;
    }
    conn.epoch = ch.getString("epoch");
  }

  // --- native long-poll ----------------------------------------------------------------------------

  static final class LongPoll extends Base {
    @Override
    public String name() {
      return "longpoll";
    }

    @Override
    HttpSession httpSession(Conn conn) {
      return new LongPollSession(conn);
    }
  }

  /**
   * Polls in a loop: the first poll ({@code wait=0}, or from the client's position when recovering) gives the
   * position, every next one is sent as soon as the previous answered, from its {@code since}.
   */
  static final class LongPollSession extends HttpSession {
    private String since;

    LongPollSession(Conn conn) {
      super(conn);
    }

    @Override
    Future<JsonObject> start(boolean recover) {
      String first = recover && conn.epoch != null ? conn.lastSeq + ":" + conn.epoch + ":" + conn.channel : null;
      return poll(first, recover ? POLL_WAIT_SECONDS : 0).map(answer -> {
        JsonObject ch = answer.getJsonArray("channels").getJsonObject(0);
        if (!ch.getBoolean("ok", false)) throw new IllegalStateException("subscribe " + conn.channel + " failed: " + ch.getJsonObject("error"));
        JsonObject pos = answer.getJsonObject("positions").getJsonObject(conn.channel, new JsonObject());
        JsonObject outcome = pos.copy();
        if (ch.containsKey("recovered")) outcome.put("recovered", ch.getBoolean("recovered"));
        if (first == null) positioned(conn, outcome);
        else {
          // recovering: what it missed came in this answer; the head is the position it now has
          conn.epoch = pos.getString("epoch", conn.epoch);
          if (!ch.getBoolean("recovered", false)) positioned(conn, outcome);
          else conn.recoverHead = pos.getLong("offset", conn.lastSeq);
          conn.checkRecovered(Clock.epochMicros());
        }
        deliver(answer);
        next();
        return outcome;
      });
    }

    private Future<JsonObject> poll(String position, int wait) {
      String uri = "/v1/poll?channels=" + enc(conn.channel) + "&wait=" + wait + (position == null ? "" : "&since=" + enc(position));
      return get(uri, "Bearer " + conn.token).compose(r -> r.body().map(b -> {
        if (r.statusCode() != 200) throw new IllegalStateException("poll " + r.statusCode() + " " + b);
        JsonObject answer = new JsonObject(b);
        since = answer.getString("since", since);
        return answer;
      }));
    }

    private void deliver(JsonObject answer) {
      long now = Clock.epochMicros();
      for (Object o : answer.getJsonArray("events", new JsonArray())) {
        JsonObject e = (JsonObject) o;
        if (!"event".equals(e.getString("type"))) continue;
        Object d = e.getValue("data");
        long ts = d instanceof JsonObject data ? data.getLong("_ts", -1L) : -1;
        conn.delivered(ts, e.getLong("offset", -1L), now);
      }
    }

    private void next() {
      if (!open) return;
      poll(since, POLL_WAIT_SECONDS).onComplete(ar -> {
        if (!open) return;
        if (ar.failed()) {
          lost(1006);
          return;
        }
        deliver(ar.result());
        next();
      });
    }
  }

  // --- PubNub subscribe long-poll -----------------------------------------------------------------

  /** PubNub's REST dialect; the app key (sub_key) comes from the target, the token is the {@code auth} parameter. */
  static final class PubNub extends Base {
    final String key;

    PubNub(String key) {
      this.key = key;
    }

    @Override
    public String name() {
      return "pubnub";
    }

    @Override
    public JsonObject options() {
      return new JsonObject().put("key", key);
    }

    @Override
    HttpSession httpSession(Conn conn) {
      return new PubNubSession(conn, key);
    }

    @Override
    public boolean acksPublishes() {
      // deliveries carry timetokens, not offsets: completeness is checked by the publisher's sequence numbers
      return false;
    }

    @Override
    public boolean recovers() {
      return false;
    }
  }

  /** A {@code pubnub} SDK client: handshake ({@code tt=0}), then subscribe polls with the last timetoken. */
  static final class PubNubSession extends HttpSession {
    private final String key;
    private final String uuid;
    private String tt = "0";

    PubNubSession(Conn conn, String key) {
      super(conn);
      this.key = key;
      this.uuid = "lt-" + Long.toHexString(System.nanoTime()) + "-" + Integer.toHexString(System.identityHashCode(this));
    }

    @Override
    Future<JsonObject> start(boolean recover) {
      return poll().map(answer -> {
        next();
        return new JsonObject();
      });
    }

    /** Unsubscribes as the SDK's unsubscribeAll does (a presence leave ends the server's session), then hangs up. */
    @Override
    Future<Void> close() {
      boolean wasOpen = open;
      Future<Void> hangUp = super.close();
      if (!wasOpen) return hangUp;
      String uri = "/v2/presence/sub-key/" + enc(key) + "/channel/" + enc(conn.channel) + "/leave?uuid=" + enc(uuid) + "&auth=" + enc(conn.token);
      return hangUp.transform(ar -> http().request(new RequestOptions().setHost(conn.host).setPort(conn.port).setURI(uri))
          .compose(HttpClientRequest::send).compose(HttpClientResponse::body).<Void>mapEmpty().otherwiseEmpty());
    }

    private Future<JsonObject> poll() {
      String uri = "/v2/subscribe/" + enc(key) + "/" + enc(conn.channel) + "/0?uuid=" + enc(uuid) + "&auth=" + enc(conn.token)
          + "&tt=" + tt + "&tr=1&heartbeat=300";
      return get(uri, null).compose(r -> r.body().map(b -> {
        if (r.statusCode() != 200) throw new IllegalStateException("pubnub subscribe " + r.statusCode() + " " + b);
        JsonObject answer = new JsonObject(b);
        tt = answer.getJsonObject("t").getString("t");
        return answer;
      }));
    }

    private void next() {
      if (!open) return;
      poll().onComplete(ar -> {
        if (!open) return;
        if (ar.failed()) {
          lost(1006);
          return;
        }
        long now = Clock.epochMicros();
        for (Object o : ar.result().getJsonArray("m", new JsonArray())) {
          Object d = ((JsonObject) o).getValue("d");
          if (d instanceof JsonObject data && data.containsKey("_s")) conn.delivered(data.getLong("_ts", -1L), data.getLong("_s"), now);
        }
        next();
      });
    }
  }
}
