package io.switchboard.gateway.protocol.centrifuge;

import io.netty.buffer.ByteBuf;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;
import io.switchboard.gateway.transport.Transport;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * One long HTTP response as the server → client half of a Centrifuge bidirectional-emulation connection: HTTP
 * streaming (newline-delimited JSON) or Server-Sent Events. The client → server half is a POST to
 * {@code /emulation} per batch of commands, routed to the session by its id (see {@link CentrifugeEmulation}).
 *
 * <p>Outbound bound: what the client has not read is bounded by the response's write queue ({@code maxQueueBytes});
 * crossing it reports an overflow at once, as on WebSocket. Frames are copied into the response (emulation is the
 * fallback transport; its clients are few).
 */
final class EmulationTransport implements Transport {
  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final Framing framing;
  private Listener listener;
  private boolean closed;
  private boolean overflowed;

  EmulationTransport(HttpServerRequest request, Framing framing, int maxQueueBytes) {
    this.request = request;
    this.response = request.response();
    this.framing = framing;
    response.setChunked(true).setWriteQueueMaxSize(maxQueueBytes);
    response.putHeader("content-type", framing == Framing.SSE ? "text/event-stream" : "application/json");
    response.putHeader("cache-control", "no-cache, no-store, must-revalidate");
    // the client learns the connection is open from the headers: send them before any reply
    response.writeHead();
  }

  @Override
  public void listen(Listener l) {
    this.listener = l;
    response.closeHandler(v -> closed());
    response.endHandler(v -> closed());
    response.exceptionHandler(t -> { /* the close handler follows */ });
  }

  private void closed() {
    if (closed) return;
    closed = true;
    listener.onClosed();
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
    if (closed || response.ended()) return;
    ByteBuf wire = frame.wire();
    byte[] bytes = new byte[wire.readableBytes()];
    wire.readBytes(bytes);
    wire.release();
    response.write(Buffer.buffer(bytes));
    if (response.writeQueueFull() && !overflowed) {
      overflowed = true;
      listener.onOverflow();
    }
  }

  /** No transport-level ping: the dialect sends its own ({@code {}}). */
  @Override
  public boolean ping() {
    return false;
  }

  /** Ends the response after what was written (the dialect's disconnect push); the code lives in that push. */
  @Override
  public void close(int code, String reason) {
    if (!response.ended() && !response.closed()) response.end();
  }

  @Override
  public void forceClose() {
    request.connection().close();
  }

  @Override
  public boolean isOpen() {
    return !closed && !response.ended() && !response.closed();
  }

  @Override
  public String header(String name) {
    return request.getHeader(name);
  }

  @Override
  public String remoteAddress() {
    return request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
  }
}
