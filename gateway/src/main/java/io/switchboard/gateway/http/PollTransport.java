package io.switchboard.gateway.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;
import io.switchboard.gateway.transport.Transport;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * The transport of one held long-poll: the session's messages (NDJSON lines, as the fan-out encoded them) are kept
 * until the poll answers with all of them in one response. The first message asks for the answer; a poll holds at
 * most {@code maxQueueBytes} of messages (past that it answers with what it has, the client polls again for the
 * rest from its new positions — nothing is lost because positions only advance over what was answered).
 */
final class PollTransport implements Transport {
  private final HttpServerRequest request;
  private final long maxQueueBytes;
  private final Runnable onData;
  private final List<byte[]> lines = new ArrayList<>();
  private long bytes;
  private Listener listener;
  private boolean open = true;
  private boolean full;
  private boolean closedReported;

  PollTransport(HttpServerRequest request, long maxQueueBytes, Runnable onData) {
    this.request = request;
    this.maxQueueBytes = maxQueueBytes;
    this.onData = onData;
    request.response().closeHandler(v -> closed());
    request.response().endHandler(v -> closed());
  }

  /** The messages so far; the poll stops taking more. */
  List<byte[]> take() {
    open = false;
    return lines;
  }

  @Override
  public void listen(Listener listener) {
    this.listener = listener;
  }

  @Override
  public Framing framing() {
    return Framing.NDJSON;
  }

  @Override
  public boolean bidirectional() {
    return false;
  }

  @Override
  public void write(Encoded frame) {
    if (!open || full) return;
    ByteBuf wire = frame.wire();
    try {
      byte[] b = ByteBufUtil.getBytes(wire, wire.readerIndex(), wire.readableBytes() - 1); // without the newline
      if (bytes + b.length > maxQueueBytes && !lines.isEmpty()) {
        full = true; // answer now; later messages come with the next poll (they are still in history)
      } else {
        lines.add(b);
        bytes += b.length;
      }
    } finally {
      wire.release();
    }
    onData.run();
  }

  @Override
  public boolean ping() {
    if (listener != null) listener.onPong(); // a held poll is answered before any ping would matter
    return true;
  }

  @Override
  public void close(int code, String reason) {
    open = false;
    onData.run();
  }

  @Override
  public void forceClose() {
    open = false;
    request.connection().close();
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
}
