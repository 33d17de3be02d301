package io.switchboard.common;

/**
 * WebSocket close codes of protocol.md. 4000–4499: do not reconnect with the same credentials;
 * 4500–4999: reconnect with backoff.
 */
public final class CloseCode {
  private CloseCode() {}

  public static final short NORMAL = 1000;
  public static final short GOING_AWAY = 1001;
  public static final short TOO_LARGE = 1009;

  public static final short INVALID_TOKEN = 4001;
  public static final short PROTOCOL_VIOLATION = 4002;
  public static final short FORBIDDEN = 4003;
  public static final short CONNECTION_LIMIT = 4004;

  public static final short SLOW_CONSUMER = 4500;
  public static final short TOKEN_EXPIRED = 4501;
  public static final short NO_PONG = 4502;
  public static final short CONNECT_TIMEOUT = 4503;
  public static final short DRAINING = 4504;

  /** Whether a client should reconnect after this code (same credentials or after refresh). */
  public static boolean reconnect(int code) {
    return code == GOING_AWAY || code >= 4500;
  }
}
