package io.switchboard.common;

import java.util.HashMap;
import java.util.Map;

/** The error codes of protocol.md, with the HTTP status each maps to and its event-bus failure code. */
public enum ErrorCode {
  BAD_REQUEST("bad_request", 400),
  UNAUTHORIZED("unauthorized", 401),
  TOKEN_EXPIRED("token_expired", 401),
  PERMISSION_DENIED("permission_denied", 403),
  UNKNOWN_CHANNEL("unknown_channel", 404),
  METHOD_NOT_FOUND("method_not_found", 404),
  NOT_FOUND("not_found", 404),
  ALREADY_SUBSCRIBED("already_subscribed", 409),
  NOT_SUBSCRIBED("not_subscribed", 409),
  LIMIT_EXCEEDED("limit_exceeded", 429),
  RATE_LIMITED("rate_limited", 429),
  TOO_LARGE("too_large", 413),
  UNRECOVERABLE_POSITION("unrecoverable_position", 409),
  UNAVAILABLE("unavailable", 503),
  INTERNAL("internal", 500);

  private static final Map<String, ErrorCode> BY_WIRE = new HashMap<>();

  static {
    for (ErrorCode c : values()) BY_WIRE.put(c.wire, c);
  }

  private final String wire;
  private final int httpStatus;

  ErrorCode(String wire, int httpStatus) {
    this.wire = wire;
    this.httpStatus = httpStatus;
  }

  /** The code as it appears in {@code error.code} on the wire. */
  public String wire() {
    return wire;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** Failure code used in event-bus replies; offset so it never collides with Vert.x's own negative codes. */
  public int busCode() {
    return 1000 + ordinal();
  }

  public static ErrorCode fromBusCode(int code) {
    int i = code - 1000;
    return i >= 0 && i < values().length ? values()[i] : null;
  }

  public static ErrorCode fromWire(String wire) {
    return BY_WIRE.get(wire);
  }
}
