package io.switchboard.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A bare WebSocket client over a plain socket, for what library clients will not do: ignore pings (so the server's
 * pong deadline is tested for real) or stop reading altogether.
 */
final class RawWs implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawWs(int port) throws IOException {
    this(port, 0);
  }

  RawWs(int port, int receiveBuffer) throws IOException {
    this(port, receiveBuffer, "/ws");
  }

  /**
   * @param receiveBuffer SO_RCVBUF in bytes (0 = the system's); a small one makes a non-reader back up quickly
   * @param path the upgrade request's path and query
   */
  RawWs(int port, int receiveBuffer, String path) throws IOException {
    socket = new Socket();
    if (receiveBuffer > 0) socket.setReceiveBufferSize(receiveBuffer);
    socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
    byte[] key = new byte[16];
    ThreadLocalRandom.current().nextBytes(key);
    String req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    out.write(req.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) throw new IOException("closed during handshake: " + head);
      head.append((char) b);
    }
    if (!head.toString().startsWith("HTTP/1.1 101")) throw new IOException("handshake refused: " + head);
  }

  /** Sends one masked text frame. */
  void sendText(String text) throws IOException {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    out.write(0x81);
    if (payload.length < 126) {
      out.write(0x80 | payload.length);
    } else {
      out.write(0x80 | 126);
      out.write(payload.length >>> 8);
      out.write(payload.length & 0xff);
    }
    out.write(mask);
    for (int i = 0; i < payload.length; i++) out.write(payload[i] ^ mask[i % 4]);
    out.flush();
  }

  /** Sends masked text frames in ONE write, so the server reads them together (one read, one event-loop turn). */
  void sendTextsAtOnce(java.util.List<String> texts) throws IOException {
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    for (String text : texts) {
      byte[] payload = text.getBytes(StandardCharsets.UTF_8);
      byte[] mask = new byte[4];
      ThreadLocalRandom.current().nextBytes(mask);
      all.write(0x81);
      if (payload.length < 126) {
        all.write(0x80 | payload.length);
      } else {
        all.write(0x80 | 126);
        all.write(payload.length >>> 8);
        all.write(payload.length & 0xff);
      }
      all.write(mask, 0, 4);
      for (int i = 0; i < payload.length; i++) all.write(payload[i] ^ mask[i % 4]);
    }
    out.write(all.toByteArray());
    out.flush();
  }

  /**
   * Sends one frame exactly as given: first byte (FIN, RSV bits, opcode), masked or not, and a payload whose
   * announced length may differ from the bytes sent (a header promising more than arrives).
   */
  void sendFrame(int firstByte, boolean masked, byte[] payload, long announced) throws IOException {
    out.write(firstByte);
    int maskBit = masked ? 0x80 : 0;
    if (announced < 126) {
      out.write(maskBit | (int) announced);
    } else if (announced <= 0xFFFF) {
      out.write(maskBit | 126);
      out.write((int) (announced >>> 8) & 0xff);
      out.write((int) announced & 0xff);
    } else {
      out.write(maskBit | 127);
      for (int i = 7; i >= 0; i--) out.write((int) (announced >>> (8 * i)) & 0xff);
    }
    byte[] mask = new byte[4];
    if (masked) {
      ThreadLocalRandom.current().nextBytes(mask);
      out.write(mask);
    }
    byte[] wire = new byte[payload.length];
    for (int i = 0; i < payload.length; i++) wire[i] = (byte) (payload[i] ^ mask[i % 4]);
    out.write(wire);
    out.flush();
  }

  void sendFrame(int firstByte, byte[] payload) throws IOException {
    sendFrame(firstByte, true, payload, payload.length);
  }

  /** A frame as the server sent it: opcode and payload. */
  record Frame(int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    int closeCode() {
      return ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
    }
  }

  /** Reads the next frame (pings included: this client never answers them). */
  Frame read() throws IOException {
    int b0 = in.read();
    if (b0 < 0) return null;
    int b1 = in.read();
    long len = b1 & 0x7f;
    if (len == 126) len = (in.read() << 8) | in.read();
    else if (len == 127) {
      len = 0;
      for (int i = 0; i < 8; i++) len = (len << 8) | in.read();
    }
    byte[] payload = in.readNBytes((int) len);
    return new Frame(b0 & 0x0f, payload);
  }

  /** Like {@link #read()} but null when the connection was reset or ended. */
  Frame readOrNull() {
    try {
      return read();
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
