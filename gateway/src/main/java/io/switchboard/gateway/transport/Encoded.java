package io.switchboard.gateway.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * The wire bytes of one framed message, in a pooled direct buffer, shareable across connections of any event loop.
 *
 * <p>Ownership: whoever creates an Encoded releases it once it has queued its writes; each write takes
 * {@link #wire()}, a retained view that Netty releases when the bytes are on the socket. So a publication is
 * encoded once and written to thousands of sockets with no copy.
 */
public final class Encoded {
  private final ByteBuf wire;
  private final Framing framing;

  private Encoded(ByteBuf wire, Framing framing) {
    this.wire = wire;
    this.framing = framing;
  }

  /** Frames a payload; the payload stays the caller's. */
  public static Encoded frame(Framing framing, ByteBuf payload) {
    return new Encoded(framing.frame(payload), framing);
  }

  /** The frame's bytes for one write: a retained view, released by Netty once written. */
  public ByteBuf wire() {
    return wire.retainedDuplicate();
  }

  public Framing framing() {
    return framing;
  }

  /** Gives up the creator's reference (after its writes are queued). */
  public void release() {
    wire.release();
  }

  /** Never released: for frames kept for the JVM's lifetime (pong). */
  public Encoded permanent() {
    return new Encoded(Unpooled.unreleasableBuffer(wire), framing);
  }

  public int size() {
    return wire.readableBytes();
  }
}
