package io.switchboard.gateway.core;

/**
 * Why the server ends a session, independent of any protocol: each dialect maps a reason to its own close code and
 * goodbye message (native 4500, Pusher 4201, Centrifuge 3008 for a slow consumer). {@link #reconnect} says whether a
 * client should come back (after backoff or a token refresh) or stop.
 */
public enum Disconnect {
  NORMAL(false),
  /** The server cannot serve this connection now (no token keys yet): reconnect, possibly elsewhere. */
  GOING_AWAY(true),
  TOO_LARGE(false),
  /** Transport framing broke the protocol (RFC 6455 violations). */
  BAD_FRAMING(false),
  INVALID_UTF8(false),
  INVALID_TOKEN(false),
  PROTOCOL_VIOLATION(false),
  FORBIDDEN(false),
  CONNECTION_LIMIT(false),
  /** The app key is not known, or the app is disabled. */
  UNKNOWN_APP(false),
  SLOW_CONSUMER(true),
  TOKEN_EXPIRED(true),
  NO_PONG(true),
  CONNECT_TIMEOUT(true),
  DRAINING(true),
  /** An operator or backend terminated the user's connections. */
  TERMINATED(false);

  public final boolean reconnect;

  Disconnect(boolean reconnect) {
    this.reconnect = reconnect;
  }
}
