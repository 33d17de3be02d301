package io.switchboard.loadtest;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

/**
 * One client connection of a worker (a subscriber, a publisher or a connect-only client), confined to one event
 * loop. It tracks its position on its channel to count gaps: a delivery whose sequence (the stored offset for
 * protocols that have one, else the publisher's {@code _s}) is not the next one is a gap or a duplicate.
 */
final class Conn {
  final Worker worker;
  final Context context;
  final Protocol protocol;
  final String token;
  /** The one channel this connection subscribes to; null for publishers and connect-only clients. */
  final String channel;
  /** The server port this client uses (a cluster has several gateways). */
  final int port;
  /** The server host, once {@link #open} was called. */
  String host;
  /** The client (source address) of the last {@link #open}. */
  WebSocketClient client;
  /** The source address of the worker's clients (HTTP subscribers take their client for it). */
  String localAddress;
  WebSocket ws;
  Protocol.Session session;
  /** Highest sequence received on {@link #channel}; the subscribe position until something arrives. */
  long lastSeq;
  /** Channel epoch (native protocol), for recovery. */
  String epoch;
  /** Set while reconnecting: the head position given by the resubscribe, reached = recovered. */
  long recoverHead = -1;
  long recoverStartMicros;
  Promise<Void> recovered;
  /** The socket this client is closing itself (its close is not counted as a server disconnect). */
  private WebSocket closingOnPurpose;

  Conn(Worker worker, Context context, Protocol protocol, String token, String channel, int port) {
    this.worker = worker;
    this.port = port;
    this.context = context;
    this.protocol = protocol;
    this.token = token;
    this.channel = channel;
  }

  /**
   * How long the protocol handshake (connect, subscribe) may take once the socket is open. Without a bound, a server
   * that never answers (overloaded, or its answer lost with the socket) would hold the caller's in-flight slot
   * forever and a whole storm would hang instead of reporting the failure.
   */
  static final long HANDSHAKE_TIMEOUT_MS = 60_000;

  /** Opens the socket and runs the protocol handshake; call on {@link #context}. */
  Future<JsonObject> open(WebSocketClient client, String host, boolean recover) {
    this.host = host;
    this.client = client;
    if (!protocol.webSocket(this)) {
      session = protocol.session(this);
      return session.start(recover);
    }
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost(host).setPort(port).setURI(protocol.path(channel));
    return client.connect(o).compose(socket -> {
      ws = socket;
      Protocol.Session s = protocol.session(this);
      session = s;
      Promise<JsonObject> done = Promise.promise();
      socket.handler(frame -> s.onFrame(frame, Clock.epochMicros()));
      socket.closeHandler(v -> {
        onClose(socket);
        // closed before the handshake answered: a failure now, not a wait forever
        Short code = socket.closeStatusCode();
        done.tryFail("closed during the handshake (code " + (code == null ? 1006 : code) + ")");
      });
      socket.exceptionHandler(t -> { /* the close handler follows */ });
      long timer = context.owner().setTimer(HANDSHAKE_TIMEOUT_MS, t -> {
        if (done.tryFail("no handshake answer within " + HANDSHAKE_TIMEOUT_MS + " ms")) close();
      });
      session.start(recover).onComplete(ar -> {
        context.owner().cancelTimer(timer);
        if (ar.succeeded()) done.tryComplete(ar.result());
        else done.tryFail(ar.cause());
      });
      return done.future();
    });
  }

  private void onClose(WebSocket socket) {
    if (socket == closingOnPurpose) return;
    Short code = socket.closeStatusCode();
    worker.stats.closed(code == null ? 1006 : code);
  }

  void send(String text) {
    if (ws == null || ws.isClosed()) return;
    ws.writeTextMessage(text);
  }

  boolean isOpen() {
    return session != null && ws == null ? session.isOpen() : ws != null && !ws.isClosed();
  }

  boolean writable() {
    return ws != null && !ws.isClosed() && !ws.writeQueueFull();
  }

  /**
   * A delivery. {@code seq} orders it on the channel (-1 when the frame carries none, e.g. an ephemeral
   * publication); {@code sentMicros} is the publisher's stamp.
   */
  void delivered(long sentMicros, long seq, long nowMicros) {
    worker.stats.delivered(sentMicros, nowMicros);
    if (seq < 0) return;
    if (!protocol.ordered()) {
      deliveredUnordered(seq);
      return;
    }
    if (seq == lastSeq + 1 || lastSeq < 0) {
      lastSeq = seq;
    } else if (seq <= lastSeq) {
      worker.stats.duplicates.increment();
    } else {
      worker.stats.gaps.add(seq - lastSeq - 1);
      lastSeq = seq;
    }
    checkRecovered(nowMicros);
  }

  /** Sequences received ahead of {@link #lastSeq} (unordered protocols): lastSeq is the highest with none missing below. */
  private java.util.TreeSet<Long> ahead;

  /**
   * An unordered protocol's delivery: a sequence seen before is a duplicate, one that is not the next is counted as
   * reordered and remembered until the ones before it arrived; what never arrives is missing at the end.
   */
  private void deliveredUnordered(long seq) {
    if (seq <= lastSeq || (ahead != null && ahead.contains(seq))) {
      worker.stats.duplicates.increment();
      return;
    }
    if (seq != lastSeq + 1) {
      worker.stats.reordered.increment();
      if (ahead == null) ahead = new java.util.TreeSet<>();
      ahead.add(seq);
      return;
    }
    lastSeq = seq;
    while (ahead != null && !ahead.isEmpty() && ahead.first() == lastSeq + 1) lastSeq = ahead.pollFirst();
  }

  /** Called after a resubscribe answered with the head position, and on every delivery after it. */
  void checkRecovered(long nowMicros) {
    if (recovered != null && recoverHead >= 0 && lastSeq >= recoverHead) {
      Promise<Void> p = recovered;
      recovered = null;
      recoverHead = -1;
      worker.recoverLatency.recordValue(Math.max(1, Math.min(Stats.MAX_LATENCY_MICROS, nowMicros - recoverStartMicros)));
      p.tryComplete();
    }
  }

  /**
   * Closes the socket: completes once the close frame is written. Waiting for the TCP connection to be gone instead
   * (so that a reconnecting client never makes the server hold its old and new socket at once) cost each storm client
   * the client's closing timeout (~10 s: the server answers the close frame but leaves closing the TCP connection to
   * the client), which turned a 19k storm into minutes of waiting; see docs/benchmarks.md.
   */
  Future<Void> close() {
    if (ws == null && session != null) {
      Future<Void> f = session.close();
      return f == null ? Future.succeededFuture() : f;
    }
    closingOnPurpose = ws;
    if (ws == null || ws.isClosed()) return Future.succeededFuture();
    return ws.close();
  }
}
