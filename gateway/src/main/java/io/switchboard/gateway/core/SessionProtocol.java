package io.switchboard.gateway.core;

import io.netty.buffer.ByteBuf;
import io.switchboard.common.Publication;

/**
 * What the session core needs from a session's dialect (native v1, Pusher 7, Centrifuge v2…): reading what the
 * client sends, and encoding what the core pushes. Implemented by the protocol packages; the core never imports
 * them. Payloads are message bodies (JSON bytes); the transport's framing wraps them.
 *
 * <p>Encode once: {@link #encodePublication} must depend only on the publication, never on the session, because the
 * fan-out encodes it once per (dialect, framing) and shares the bytes with every subscriber (see {@link FrameCache}).
 */
public interface SessionProtocol {
  /** This dialect's slot in the frame cache: a small number unique per dialect, below {@link FrameCache#DIALECTS}. */
  int codecId();

  /** A text message from the client. */
  void onText(Session s, String text);

  /** A binary message from the client. */
  void onBinary(Session s, int bytes);

  /** The payload that shows a publication (or a presence/ack event) to this dialect's clients; null to skip it. */
  ByteBuf encodePublication(Publication p);

  /** The server removed a subscription (grant gone after a refresh): tell the client. */
  void unsubscribed(Session s, String channel, String reason);

  /**
   * The server subscribed the session to a channel (server API); called before the subscription goes live, so the
   * client learns of it before its publications. Default: nothing (the publications simply start).
   */
  default void subscribed(Session s, Subscriptions.Outcome outcome) {}

  /** The close code of a disconnect reason in this dialect. */
  int closeCode(Disconnect d);

  /** The message sent before the close, or null. */
  ByteBuf goodbye(Disconnect d, int code, String text);

  /** How often the server checks the client is alive. */
  long pingIntervalMs(GatewayConfig cfg);

  /** Sends a liveness probe (a transport ping, or the dialect's own ping message). */
  void ping(Session s);

  /** The session's connection is gone (cleanup of dialect state); default nothing. */
  default void closed(Session s) {}
}
