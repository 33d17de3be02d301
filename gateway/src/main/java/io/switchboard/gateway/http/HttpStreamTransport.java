package io.switchboard.gateway.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.WriteBufferWaterMark;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;
import io.switchboard.gateway.transport.Transport;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.impl.ConnectionBase;
import java.nio.charset.StandardCharsets;

/**
 * A receive-only transport over one chunked HTTP response: Server-Sent Events or NDJSON streaming.
 *
 * <p>Like the WebSocket transport, the shared frame bytes are written straight into the connection's Netty pipeline
 * from Vert.x's handler (so Netty's HTTP encoder makes them chunks), without a copy, a per-write promise or a flush;
 * the loop's {@link HttpFlusher} flushes each written stream once. Vert.x writes only the response head (before any
 * frame) and its end (after the last). The connection's write buffer is bounded by {@code maxQueueBytes}: a client
 * that lets more pile up is reported slow ({@link Listener#onOverflow}) and cut.
 *
 * <p>Pings are an SSE comment or an NDJSON ping line: a write that reaches a live socket is all the liveness a
 * receive-only stream can show (a dead one fails and closes), so a ping counts as answered at once.
 */
final class HttpStreamTransport implements Transport {
  private static final byte[] SSE_PING = ": ping\n\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NDJSON_PING = "{\"type\":\"ping\"}\n".getBytes(StandardCharsets.US_ASCII);

  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final Framing framing;
  private final HttpFlusher flusher;
  /** Vert.x's handler context of the connection: writes from here pass the HTTP encoder (chunking) to the socket. */
  private final ChannelHandlerContext ctx;
  private Listener listener;
  /** Written since the last flush (owned by the flusher). */
  boolean dirty;
  private boolean open = true;
  private boolean overflowed;
  private boolean closedReported;

  HttpStreamTransport(HttpServerRequest request, Framing framing, int maxQueueBytes, HttpFlusher flusher) {
    this.request = request;
    this.response = request.response();
    this.framing = framing;
    this.flusher = flusher;
    this.ctx = ((ConnectionBase) request.connection()).channelHandlerContext();
    ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(Math.max(1, maxQueueBytes / 2), maxQueueBytes));
    response.closeHandler(v -> closed());
    response.exceptionHandler(t -> closed());
  }

  /** Starts the response: status and headers as set, then an SSE prelude (e.g. {@code retry:}) if any. */
  void start(String prelude) {
    response.writeHead();
    if (prelude != null) writeBytes(Unpooled.wrappedBuffer(prelude.getBytes(StandardCharsets.UTF_8)));
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
    if (!open || overflowed) return;
    writeBytes(frame.wire());
  }

  private void writeBytes(ByteBuf b) {
    Channel ch = ctx.channel();
    if (!ch.isOpen()) {
      b.release();
      return; // closed by the client; the close handler runs next on this loop
    }
    ctx.write(b, ctx.voidPromise());
    if (ch.isWritable()) {
      flusher.dirty(this);
      return;
    }
    // past the bound: what was held back for coalescing must not count against the client, so try to send it first
    flush();
    if (!ch.isWritable()) {
      overflowed = true;
      if (listener != null) listener.onOverflow();
    }
  }

  /** Called by the flusher. */
  void flush() {
    dirty = false;
    ctx.flush();
  }

  @Override
  public boolean ping() {
    if (!open || overflowed) return true;
    writeBytes(Unpooled.wrappedBuffer(framing == Framing.SSE_EVENT ? SSE_PING : NDJSON_PING));
    if (listener != null) listener.onPong();
    return true;
  }

  @Override
  public void close(int code, String reason) {
    if (!open) return;
    if (overflowed) {
      // a client past the byte bound would not read the goodbye or the end of the response either: cut it now
      forceClose();
      return;
    }
    open = false;
    ctx.flush();
    // the goodbye was written just before: end the response behind it, then the stream's connection
    response.end().onComplete(ar -> request.connection().close());
  }

  @Override
  public void forceClose() {
    open = false;
    ctx.channel().close();
    closed();
  }

  @Override
  public boolean isOpen() {
    return open && ctx.channel().isOpen();
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
}
