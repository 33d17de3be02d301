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

  /**
   * Which of this dialect's encodings of {@code p} a subscriber gets: 0 the plain one ({@link #encodePublication}),
   * 1..{@link FrameCache#VARIANTS}-1 a per-subscription alternative (Centrifuge: fossil delta, or data as a string on
   * a delta subscription), -1 none (an event the subscription did not ask for). Called once per delivery to the
   * session, in delivery order, just before the frame is written, so a dialect may note what each of its
   * subscriptions was sent. Default: every subscriber gets the plain encoding.
   */
  default int variant(Session s, Publication p) {
    return 0;
  }

  /**
   * Encoding {@code variant} (&gt; 0) of a publication. Encode once still holds: it may depend on the publication and on
   * the dialect's per-channel state of this event loop (the channel's previous publication), never on the session.
   */
  default ByteBuf encodePublication(Publication p, int variant) {
    return encodePublication(p);
  }

  /**
   * How long after its token's expiry a session may still refresh before the sweep closes it (Centrifuge clients
   * refresh when the ttl ends and the server gives them a grace period); default none.
   */
  default long expiryGraceMs() {
    return 0;
  }

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

  /** Who the session is in a presence channel (scoped name): the subject unless the dialect says otherwise. */
  default String presenceSubject(Session s, String channel) {
    return s.subject();
  }

  /** What a presence member shows as info: the token's info unless the dialect says otherwise. */
  default io.vertx.core.json.JsonObject presenceInfo(Session s, String channel) {
    return s.claims().info();
  }

  /**
   * Whether the session receives presence events about itself (native: yes, it may track its own join; Pusher: no,
   * a member never gets its own member_added).
   */
  default boolean ownPresenceEvents() {
    return true;
  }

  /** The session's connection is gone (cleanup of dialect state); default nothing. */
  default void closed(Session s) {}
}
