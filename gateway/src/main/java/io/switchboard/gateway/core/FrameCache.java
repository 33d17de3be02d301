package io.switchboard.gateway.core;

import io.netty.buffer.ByteBuf;
import io.switchboard.common.Publication;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;

/**
 * The frames of ONE publication during its fan-out, one slot per (dialect, framing): the first subscriber of each
 * kind pays for the encoding, every other one shares the bytes. Released when the fan-out is done (each queued write
 * holds its own reference).
 */
final class FrameCache {
  static final int DIALECTS = 8;
  private static final Object SKIP = new Object();
  private final Publication publication;
  private Object[] slots;

  FrameCache(Publication publication) {
    this.publication = publication;
  }

  /** The frame for this session's dialect and framing, or null when its dialect does not show the publication. */
  Encoded frameFor(Session s) {
    int k = s.protocol().codecId() * Framing.COUNT + s.transport.framing().ordinal();
    if (slots == null) slots = new Object[DIALECTS * Framing.COUNT];
    Object o = slots[k];
    if (o == null) {
      ByteBuf payload = s.protocol().encodePublication(publication);
      if (payload == null) {
        o = SKIP;
      } else {
        o = Encoded.frame(s.transport.framing(), payload);
        payload.release();
      }
      slots[k] = o;
    }
    return o == SKIP ? null : (Encoded) o;
  }

  void release() {
    if (slots == null) return;
    for (Object o : slots) {
      if (o instanceof Encoded e) e.release();
    }
  }

  /** A frame made for one session only (recovered or held publications). */
  static void sendOne(Session s, Publication p) {
    ByteBuf payload = s.protocol().encodePublication(p);
    if (payload == null) return;
    s.sendPayload(payload);
    payload.release();
  }
}
