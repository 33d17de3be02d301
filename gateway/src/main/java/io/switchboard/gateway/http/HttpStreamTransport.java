package io.switchboard.gateway.http;

import io.netty.buffer.ByteBuf;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;
import io.switchboard.gateway.transport.Transport;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;

/**
 * A receive-only transport over one chunked HTTP response: Server-Sent Events or NDJSON streaming. Writes go out as
 * they come (one chunk per message); the bytes handed to the socket and not yet written are counted, and past the
 * connection's byte bound the session is told it has a slow client ({@link Listener#onOverflow}), exactly like a
 * WebSocket. Pings are an SSE comment or an NDJSON ping line: a write that reaches a live socket is the client's
 * liveness (a dead one fails the write and closes), so a ping counts as answered at once.
 */
final class HttpStreamTransport implements Transport {
  private static final Buffer SSE_PING = Buffer.buffer(": ping\n\n");
  private static final Buffer NDJSON_PING = Buffer.buffer("{\"type\":\"ping\"}\n");

  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final Framing framing;
  private final long maxQueueBytes;
  private Listener listener;
  private long queued;
  private boolean open = true;
  private boolean overflowed;
  private boolean closedReported;

  HttpStreamTransport(HttpServerRequest request, Framing framing, long maxQueueBytes) {
    this.request = request;
    this.response = request.response();
    this.framing = framing;
    this.maxQueueBytes = maxQueueBytes;
    response.closeHandler(v -> closed());
    response.endHandler(v -> closed());
    response.exceptionHandler(t -> closed());
  }

  @Override
  public void listen(Listener listener) {
    this.listener = listener;
  }

  @Override
  public Framing framing() {
    return framing;
  }

  @Override
  public boolean bidirectional() {
    return false;
  }

  @Override
  public void write(Encoded frame) {
    if (!open) return;
    // the shared frame bytes go to the socket as they are (no copy): Vert.x wraps a direct buffer as unreleasable,
    // so this write's reference is given back once Netty has written it
    ByteBuf wire = frame.wire();
    int n = wire.readableBytes();
    if (!reserve(n)) {
      wire.release();
      return;
    }
    response.write(BufferInternal.buffer(wire)).onComplete(ar -> {
      queued -= n;
      wire.release();
    });
  }

  /** Counts bytes against the bound; false (and the client reported slow, once) past it. */
  private boolean reserve(int n) {
    queued += n;
    if (queued <= maxQueueBytes) return true;
    queued -= n;
    if (!overflowed) {
      overflowed = true;
      if (listener != null) listener.onOverflow();
    }
    return false;
  }

  /** Writes bytes of this stream only (the prelude, pings); counted against the bound like every write. */
  void writeRaw(Buffer b) {
    if (!open) return;
    int n = b.length();
    if (!reserve(n)) return;
    response.write(b).onComplete(ar -> queued -= n);
  }

  @Override
  public boolean ping() {
    if (!open) return true;
    if (framing == Framing.SSE_EVENT) writeRaw(SSE_PING);
    else writeRaw(NDJSON_PING);
    if (listener != null) listener.onPong();
    return true;
  }

  @Override
  public void close(int code, String reason) {
    if (!open) return;
    if (overflowed) {
      // a client past the byte bound would not read the goodbye or the end of the response either; and an ended
      // response is forgotten by the session core, so nothing would cut it later: cut the connection now
      forceClose();
      return;
    }
    open = false;
    // the goodbye was written just before: end the response behind it
    response.end();
  }

  @Override
  public void forceClose() {
    open = false;
    request.connection().close();
    closed();
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public String header(String name) {
    return request.getHeader(name);
  }

  @Override
  public String remoteAddress() {
    return request.remoteAddress() == null ? null : request.remoteAddress().toString();
  }

  void closed() {
    open = false;
    if (closedReported) return;
    closedReported = true;
    if (listener != null) listener.onClosed();
  }

  static Buffer retry(long ms) {
    return Buffer.buffer("retry: " + ms + "\n\n", StandardCharsets.UTF_8.name());
  }
}
