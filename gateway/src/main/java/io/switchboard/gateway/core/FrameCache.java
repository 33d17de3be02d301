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
  /** Encodings per dialect (see {@link SessionProtocol#variant}); variants above 0 get a slot array of their own. */
  static final int VARIANTS = 4;
  private static final Object SKIP = new Object();
  private final Publication publication;
  private Object[] slots;
  private Object[] variantSlots;

  FrameCache(Publication publication) {
    this.publication = publication;
  }

  /** The frame for this session's dialect, variant and framing; null when its dialect shows this subscriber nothing. */
  Encoded frameFor(Session s) {
    SessionProtocol protocol = s.protocol();
    int v = protocol.variant(s, publication);
    if (v < 0) return null;
    Object[] table;
    int k;
    if (v == 0) {
      if (slots == null) slots = new Object[DIALECTS * Framing.COUNT];
      table = slots;
      k = protocol.codecId() * Framing.COUNT + s.transport.framing().ordinal();
    } else {
      if (variantSlots == null) variantSlots = new Object[DIALECTS * (VARIANTS - 1) * Framing.COUNT];
      table = variantSlots;
      k = (protocol.codecId() * (VARIANTS - 1) + v - 1) * Framing.COUNT + s.transport.framing().ordinal();
    }
    Object o = table[k];
    if (o == null) {
      ByteBuf payload = v == 0 ? protocol.encodePublication(publication) : protocol.encodePublication(publication, v);
      if (payload == null) {
        o = SKIP;
      } else {
        o = Encoded.frame(s.transport.framing(), payload);
        payload.release();
      }
      table[k] = o;
    }
    return o == SKIP ? null : (Encoded) o;
  }

  void release() {
    release(slots);
    release(variantSlots);
  }

  private static void release(Object[] table) {
    if (table == null) return;
    for (Object o : table) {
      if (o instanceof Encoded e) e.release();
    }
  }

  /** A frame made for one session only (recovered or held publications). */
  static void sendOne(Session s, Publication p) {
    int v = s.protocol().variant(s, p);
    if (v < 0) return;
    ByteBuf payload = v == 0 ? s.protocol().encodePublication(p) : s.protocol().encodePublication(p, v);
    if (payload == null) return;
    s.sendPayload(payload);
    payload.release();
  }
}
