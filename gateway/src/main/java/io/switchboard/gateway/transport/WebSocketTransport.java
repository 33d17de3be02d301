package io.switchboard.gateway.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.http.WebSocketInternal;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket connection as a {@link Transport}.
 *
 * <p>Outbound queue invariant: what the client has not yet read is bounded by {@code maxQueueBytes} (Netty's
 * pending-bytes count, made the socket's write-queue high-water mark). Crossing it reports an overflow at once: a
 * broadcast never waits for a slow reader.
 *
 * <p>Inbound: messages are reassembled here from frames (text, binary, continuation), bounded by
 * {@code maxMessageBytes} across fragments, and text is decoded as strict UTF-8. Netty's frame decoder is replaced
 * by one that does NOT close on its own: any framing violation (a frame over the limit, unmasked or reserved bits,
 * an unknown opcode) reaches {@link Transport.Listener#onTransportError}, so the session can send its protocol's
 * goodbye and the right close code (1009, 1002, 1007) instead of a bare TCP close.
 */
public final class WebSocketTransport implements Transport, Flusher.Target {
  private final ServerWebSocket socket;
  private final int maxMessageBytes;
  /** Netty's context of the socket below the WebSocket encoder: where pre-framed bytes are written. */
  private final ChannelHandlerContext pipeline;
  private final Flusher flusher;
  private Listener listener;
  /** Written since the last flush (owned by the {@link Flusher}). */
  boolean dirty;
  private boolean closed;
  private boolean overflowed;
  /** A fragmented message being reassembled; null between messages. */
  private ByteBuf partial;
  private boolean partialText;
  /** Whether Vert.x's per-connection write queue was replaced by its direct one (see {@link DirectWrites}). */
  public final boolean directWrites;

  public WebSocketTransport(ServerWebSocket socket, Flusher flusher, int maxQueueBytes, int maxMessageBytes) {
    this.socket = socket;
    this.flusher = flusher;
    this.maxMessageBytes = maxMessageBytes;
    ChannelHandlerContext vertxCtx = ((WebSocketInternal) socket).channelHandlerContext();
    // write from the WebSocket encoder's place: our ByteBufs are whole frames already, so they start their way to the
    // socket below the encoder (anything below it — TLS — still applies); Vert.x's own writes pass the encoder and
    // meet ours in call order, all on this event loop
    ChannelHandlerContext encoderCtx = vertxCtx.pipeline().context(WebSocketFrameEncoder.class);
    this.pipeline = encoderCtx != null ? encoderCtx : vertxCtx;
    this.directWrites = DirectWrites.apply(socket);
    socket.setWriteQueueMaxSize(maxQueueBytes);
    guardDecoder(vertxCtx.pipeline(), maxMessageBytes);
  }

  /**
   * Netty settings for the decoder: frames are limited to the message limit (a bigger frame is refused from its
   * header, before its payload is buffered), client frames must be masked, and violations are reported to us.
   */
  private void guardDecoder(ChannelPipeline p, int maxFrame) {
    ChannelHandlerContext dec = p.context(WebSocketFrameDecoder.class);
    if (dec == null) return;
    WebSocketDecoderConfig config = WebSocketDecoderConfig.newBuilder()
        .maxFramePayloadLength(maxFrame)
        .expectMaskedFrames(true)
        .allowMaskMismatch(false)
        .allowExtensions(false)
        .closeOnProtocolViolation(false)
        .withUTF8Validator(false)
        .build();
    p.replace(dec.name(), dec.name(), new WebSocket13FrameDecoder(config));
    p.addAfter(dec.name(), "switchboard-frame-errors", new ChannelInboundHandlerAdapter() {
      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException c) {
          int status = c.closeStatus() == null ? 1002 : c.closeStatus().code();
          TransportError e = status == 1009 ? TransportError.TOO_LARGE
              : status == 1007 ? TransportError.INVALID_UTF8 : TransportError.PROTOCOL_ERROR;
          failed(e, status == 1009 ? "frame larger than " + maxMessageBytes + " bytes" : c.getMessage());
        } else {
          ctx.fireExceptionCaught(cause);
        }
      }
    });
  }

  @Override
  public void listen(Listener l) {
    this.listener = l;
    socket.frameHandler(this::onFrame);
    socket.pongHandler(b -> l.onPong());
    socket.closeHandler(v -> closed());
    socket.exceptionHandler(t -> { /* the close handler follows; nothing to add */ });
  }

  private void onFrame(WebSocketFrame f) {
    // control frames are not messages: Vert.x answers pings itself and hands pongs to the pong handler (liveness)
    // before passing every frame here, so a client's pong must not read as a binary message (an error answer each)
    if (closed || f.isClose() || f.isPing() || f.type() == io.vertx.core.http.WebSocketFrameType.PONG) return;
    ByteBuf data = ((BufferInternal) f.binaryData()).getByteBuf();
    if (!f.isContinuation()) {
      if (partial != null) {
        failed(TransportError.PROTOCOL_ERROR, "a new message started before the fragmented one ended");
        return;
      }
      if (f.isFinal()) {
        deliver(f.isText(), data);
        return;
      }
      partialText = f.isText();
      partial = Unpooled.buffer(Math.min(maxMessageBytes, data.readableBytes() * 2));
    } else if (partial == null) {
      failed(TransportError.PROTOCOL_ERROR, "continuation frame without a message to continue");
      return;
    }
    if (partial.readableBytes() + data.readableBytes() > maxMessageBytes) {
      partial = null;
      failed(TransportError.TOO_LARGE, "message larger than " + maxMessageBytes + " bytes");
      return;
    }
    partial.writeBytes(data, data.readerIndex(), data.readableBytes());
    if (f.isFinal()) {
      ByteBuf whole = partial;
      partial = null;
      deliver(partialText, whole);
    }
  }

  private void deliver(boolean text, ByteBuf data) {
    if (data.readableBytes() > maxMessageBytes) {
      failed(TransportError.TOO_LARGE, "message larger than " + maxMessageBytes + " bytes");
      return;
    }
    if (!text) {
      listener.onBinary(data.readableBytes());
      return;
    }
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(data.nioBuffer()).toString();
    } catch (CharacterCodingException e) {
      failed(TransportError.INVALID_UTF8, "text message is not valid UTF-8");
      return;
    }
    listener.onText(s);
  }

  private void failed(TransportError e, String message) {
    if (closed || listener == null) return;
    listener.onTransportError(e, message);
  }

  private void closed() {
    if (closed) return;
    closed = true;
    partial = null;
    listener.onClosed();
  }

  @Override
  public Framing framing() {
    return Framing.WEBSOCKET_TEXT;
  }

  @Override
  public boolean bidirectional() {
    return true;
  }

  /**
   * The hot path: the frame's shared wire bytes are written straight to the socket's Netty pipeline (below Vert.x's
   * per-write promise and frame object; a ByteBuf passes the WebSocket encoders untouched) without a flush; the
   * {@link Flusher} flushes every written socket once when the event loop has run what is queued, so a burst of
   * publications costs one syscall per socket, not one per publication.
   */
  @Override
  public void write(Encoded frame) {
    if (overflowed) return;
    Channel ch = pipeline.channel();
    if (!ch.isOpen()) return; // closed by the client; our close handler runs next on this loop
    pipeline.write(frame.wire(), pipeline.voidPromise());
    if (ch.isWritable()) {
      flusher.dirty(this);
      return;
    }
    // past the bound: what we held back for coalescing must not count against the client, so try to send it first;
    // only bytes the socket would not take are the client's backlog
    flush();
    if (!ch.isWritable()) {
      overflowed = true;
      listener.onOverflow();
    }
  }

  @Override
  public boolean markDirty() {
    if (dirty) return false;
    dirty = true;
    return true;
  }

  /** Called by the flusher. */
  @Override
  public void flush() {
    dirty = false;
    pipeline.flush();
  }

  @Override
  public boolean ping() {
    socket.writePing(Buffer.buffer());
    return true;
  }

  /**
   * Sends the close frame. After a framing error the decoder discards everything, so the close handshake cannot
   * complete: the close frame is written directly and the connection cut once it is flushed.
   */
  @Override
  public void close(int code, String reason) {
    if (!pipeline.channel().isOpen()) return;
    String r = closeReason(reason);
    if (code == 1002 || code == 1007 || code == 1009) {
      byte[] text = r.getBytes(StandardCharsets.UTF_8);
      ByteBuf b = pipeline.alloc().buffer(4 + text.length);
      b.writeByte(0x88).writeByte(2 + text.length).writeShort(code).writeBytes(text);
      pipeline.writeAndFlush(b).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    // Vert.x writes it through the encoder, behind what we queued, and completes the handshake when the client answers
    pipeline.flush();
    socket.close((short) code, r);
  }

  @Override
  public void forceClose() {
    pipeline.channel().close();
  }

  @Override
  public boolean isOpen() {
    return !closed && pipeline.channel().isOpen();
  }

  @Override
  public String header(String name) {
    return socket.headers().get(name);
  }

  @Override
  public String remoteAddress() {
    return socket.remoteAddress() == null ? null : socket.remoteAddress().hostAddress();
  }

  /** The path and query of the upgrade request. */
  public String uri() {
    return socket.uri();
  }

  public String query() {
    return socket.query();
  }

  /** A close frame's reason is limited to 123 bytes (RFC 6455 5.5); the goodbye message carries the full text. */
  static String closeReason(String reason) {
    if (reason == null) return "";
    if (reason.length() <= 40) return reason;
    StringBuilder b = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < reason.length(); i++) {
      char ch = reason.charAt(i);
      int n = ch < 0x80 ? 1 : ch < 0x800 ? 2 : 3;
      if (Character.isSurrogate(ch) || bytes + n > 120) break;
      b.append(ch);
      bytes += n;
    }
    return b.toString();
  }

  /** Netty's pending outbound bytes of the socket: the figure {@code maxQueueBytes} bounds. */
  @Override
  public long queuedBytes() {
    io.netty.channel.ChannelOutboundBuffer out = pipeline.channel().unsafe().outboundBuffer();
    return out == null ? 0 : out.totalPendingWriteBytes();
  }
}
