package io.switchboard.gateway.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * How a transport wraps one message payload (a dialect's encoded bytes) on the wire. Server-to-client framing never
 * depends on the connection (WebSocket server frames are unmasked, RFC 6455 5.1), so a framed message can be shared
 * by every connection using the same framing: the frame cache keys on (dialect, framing).
 */
public enum Framing {
  /** One unmasked, final WebSocket text frame: header then payload. */
  WEBSOCKET_TEXT {
    @Override
    public ByteBuf frame(ByteBuf payload) {
      int len = payload.readableBytes();
      ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(len + 10);
      b.writeByte(0x81); // FIN + text
      if (len < 126) {
        b.writeByte(len);
      } else if (len <= 0xFFFF) {
        b.writeByte(126).writeShort(len);
      } else {
        b.writeByte(127).writeLong(len);
      }
      b.writeBytes(payload, payload.readerIndex(), len);
      return b;
    }
  },
  /** One line of newline-delimited JSON (HTTP streaming); the payload must hold no raw newline (compact JSON). */
  NDJSON {
    @Override
    public ByteBuf frame(ByteBuf payload) {
      int len = payload.readableBytes();
      ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(len + 1);
      b.writeBytes(payload, payload.readerIndex(), len).writeByte('\n');
      return b;
    }
  },
  /** One Server-Sent Events message: {@code data: <payload>\n\n} (compact JSON has no raw newline). */
  SSE {
    @Override
    public ByteBuf frame(ByteBuf payload) {
      int len = payload.readableBytes();
      ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(len + 8);
      b.writeBytes(DATA).writeBytes(payload, payload.readerIndex(), len).writeByte('\n').writeByte('\n');
      return b;
    }
  },
  /**
   * One Server-Sent Events message whose fields the dialect wrote itself ({@code id: …\ndata: …\n}), with the blank
   * line that ends it, as one HTTP/1.1 chunk ({@code <size hex>\r\n…\r\n}). So the {@code id:} line that lets a
   * client resume is part of the shared bytes, a publication is still encoded once per (dialect, framing), and a
   * stream writes it below the HTTP encoder as it is — one write, like a WebSocket frame. (HTTP/1.1 chunked
   * responses only.)
   */
  SSE_EVENT {
    @Override
    public ByteBuf frame(ByteBuf payload) {
      return chunk(payload, (byte) '\n');
    }
  },
  /** One NDJSON line as one HTTP/1.1 chunk: the NDJSON of an HTTP stream, written below the HTTP encoder. */
  NDJSON_CHUNK {
    @Override
    public ByteBuf frame(ByteBuf payload) {
      return chunk(payload, (byte) '\n');
    }
  };

  /** {@code <size hex>\r\n<payload><last>\r\n}: an HTTP/1.1 chunk of the payload and one final byte. */
  public static ByteBuf chunk(ByteBuf payload, byte last) {
    int len = payload.readableBytes();
    String size = Integer.toHexString(len + 1);
    ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(len + size.length() + 5);
    b.writeCharSequence(size, java.nio.charset.StandardCharsets.US_ASCII);
    b.writeByte('\r').writeByte('\n');
    b.writeBytes(payload, payload.readerIndex(), len).writeByte(last);
    b.writeByte('\r').writeByte('\n');
    return b;
  }

  private static final byte[] DATA = "data: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /** A new buffer (direct, pooled) with the framed payload; the payload is not released. */
  public abstract ByteBuf frame(ByteBuf payload);

  public static final int COUNT = values().length;
}
