package io.switchboard.gateway.transport;

/**
 * Moves framed bytes between one client and the server. It knows nothing of protocols or sessions: the session core
 * listens to it and hands it {@link Encoded} frames of its {@link #framing()}.
 *
 * <p>Every call is made on the connection's event loop.
 */
public interface Transport {
  /** What a transport reports to the session core. */
  interface Listener {
    /** A complete text message from the client (bidirectional transports only). */
    void onText(String text);

    /** A binary message from the client. */
    void onBinary(int bytes);

    /** The client answered a transport-level ping. */
    void onPong();

    /** The outbound queue passed its byte bound: the client is too slow and must be cut. */
    void onOverflow();

    /** The client sent something the transport itself must refuse (framing, size, encoding); the transport closes. */
    void onTransportError(TransportError error, String message);

    /** The connection is closed, whoever closed it; called exactly once. */
    void onClosed();
  }

  /** Transport-level violations, each with its RFC 6455 close code where one applies. */
  enum TransportError {
    TOO_LARGE(1009),
    PROTOCOL_ERROR(1002),
    INVALID_UTF8(1007);

    public final int closeCode;

    TransportError(int closeCode) {
      this.closeCode = closeCode;
    }
  }

  void listen(Listener listener);

  Framing framing();

  /** Whether the client can send messages on this connection (WebSocket) or only receive (SSE, streaming). */
  boolean bidirectional();

  /**
   * Queues a frame (a retained view of it) without flushing; flushes are coalesced per event loop. A client past the
   * outbound byte bound is reported through {@link Listener#onOverflow()}: a write never waits for a slow reader.
   */
  void write(Encoded frame);

  /** Sends a transport-level ping if the transport has one; false when it has none (the dialect pings instead). */
  boolean ping();

  /** Starts an orderly close with a code and reason (queued behind what was written). */
  void close(int code, String reason);

  /** Cuts the connection at once (a client that never completed the close). */
  void forceClose();

  boolean isOpen();

  /** Header of the opening request, e.g. Authorization; null when absent. */
  String header(String name);

  String remoteAddress();

  /** Bytes written to this connection and not yet taken by the client (metrics; 0 when the transport cannot tell). */
  default long queuedBytes() {
    return 0;
  }
}
