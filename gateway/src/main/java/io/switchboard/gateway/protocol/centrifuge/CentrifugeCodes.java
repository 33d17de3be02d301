package io.switchboard.gateway.protocol.centrifuge;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.core.Disconnect;

/**
 * The numeric codes of Centrifuge client protocol v2: command errors (100–113), unsubscribe codes (2000 stay
 * unsubscribed, 2500+ resubscribe) and disconnect codes (3000–3499 reconnect, 3500–3999 terminal; centrifuge-js
 * decides from the number alone), and how Switchboard's typed errors and disconnect reasons map onto them.
 */
final class CentrifugeCodes {
  private CentrifugeCodes() {}

  // command errors
  static final int INTERNAL = 100;
  static final int UNAUTHORIZED = 101;
  static final int UNKNOWN_CHANNEL = 102;
  static final int PERMISSION_DENIED = 103;
  static final int METHOD_NOT_FOUND = 104;
  static final int ALREADY_SUBSCRIBED = 105;
  static final int LIMIT_EXCEEDED = 106;
  static final int BAD_REQUEST = 107;
  static final int NOT_AVAILABLE = 108;
  static final int TOKEN_EXPIRED = 109;
  static final int EXPIRED = 110;
  static final int TOO_MANY_REQUESTS = 111;
  static final int UNRECOVERABLE_POSITION = 112;

  // unsubscribe pushes
  static final int UNSUBSCRIBE_SERVER = 2000;
  static final int UNSUBSCRIBE_INSUFFICIENT = 2500;

  // disconnects: reconnect
  static final int CONNECTION_CLOSED = 3000;
  static final int SHUTDOWN = 3001;
  static final int SERVER_ERROR = 3004;
  static final int EXPIRED_DISCONNECT = 3005;
  static final int SLOW = 3008;
  static final int WRITE_ERROR = 3009;
  static final int NO_PONG = 3012;
  // disconnects: terminal
  static final int INVALID_TOKEN = 3500;
  static final int BAD_REQUEST_DISCONNECT = 3501;
  static final int STALE = 3502;
  static final int FORCE_NO_RECONNECT = 3503;
  static final int CONNECTION_LIMIT = 3504;
  static final int PERMISSION_DENIED_DISCONNECT = 3507;
  static final int NOT_AVAILABLE_DISCONNECT = 3508;

  /** The command error for a Switchboard error. */
  static int error(ErrorCode code) {
    return switch (code) {
      case BAD_REQUEST -> BAD_REQUEST;
      case UNAUTHORIZED -> UNAUTHORIZED;
      case TOKEN_EXPIRED -> TOKEN_EXPIRED;
      case PERMISSION_DENIED, NOT_SUBSCRIBED -> PERMISSION_DENIED;
      case UNKNOWN_CHANNEL, NOT_FOUND -> UNKNOWN_CHANNEL;
      case METHOD_NOT_FOUND -> METHOD_NOT_FOUND;
      case ALREADY_SUBSCRIBED -> ALREADY_SUBSCRIBED;
      case LIMIT_EXCEEDED, TOO_LARGE -> LIMIT_EXCEEDED;
      case RATE_LIMITED -> TOO_MANY_REQUESTS;
      case UNRECOVERABLE_POSITION -> UNRECOVERABLE_POSITION;
      // unavailable, internal, and any code added later
      default -> INTERNAL;
    };
  }

  /** Errors a client should retry (centrifuge-js retries a temporary connect or subscribe error). */
  static boolean temporary(ErrorCode code) {
    return code == ErrorCode.UNAVAILABLE || code == ErrorCode.INTERNAL || code == ErrorCode.RATE_LIMITED;
  }

  static int error(ServiceError e) {
    return error(e.code());
  }

  /** The close code of a disconnect reason. */
  static int disconnect(Disconnect d) {
    return switch (d) {
      case NORMAL -> CONNECTION_CLOSED;
      case GOING_AWAY, DRAINING -> SHUTDOWN;
      // transport-level violations keep their RFC 6455 codes (centrifuge-js treats 1009 as terminal)
      case TOO_LARGE -> 1009;
      case BAD_FRAMING -> 1002;
      case INVALID_UTF8 -> 1007;
      case INVALID_TOKEN, UNKNOWN_APP -> INVALID_TOKEN;
      case PROTOCOL_VIOLATION -> BAD_REQUEST_DISCONNECT;
      case FORBIDDEN -> PERMISSION_DENIED_DISCONNECT;
      case TERMINATED -> FORCE_NO_RECONNECT;
      case CONNECTION_LIMIT -> CONNECTION_LIMIT;
      case SLOW_CONSUMER -> SLOW;
      case TOKEN_EXPIRED -> EXPIRED_DISCONNECT;
      case NO_PONG -> NO_PONG;
      case CONNECT_TIMEOUT -> STALE;
      default -> d.reconnect ? CONNECTION_CLOSED : FORCE_NO_RECONNECT;
    };
  }
}
