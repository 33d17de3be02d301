package io.switchboard.common;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * A typed error that crosses the event bus and reaches the client unchanged: a code from protocol.md, a human
 * message naming what was wrong, and optional extra fields (e.g. {@code retryAfterMs}).
 *
 * <p>On the bus it travels as a {@link ReplyException} whose failure code is {@link ErrorCode#busCode()} and whose
 * message is the JSON of {@link #toJson()}. Timeouts and "no handler" become {@code unavailable}: the request was
 * not accepted.
 */
public final class ServiceError extends RuntimeException {
  private final ErrorCode code;
  private final JsonObject extra;

  public ServiceError(ErrorCode code, String message) {
    this(code, message, null);
  }

  public ServiceError(ErrorCode code, String message, JsonObject extra) {
    super(message, null, false, false);
    this.code = code;
    this.extra = extra;
  }

  public ErrorCode code() {
    return code;
  }

  public JsonObject extra() {
    return extra;
  }

  /** {@code {code, message, ...extra}} — the {@code error} object of the wire protocol. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("code", code.wire()).put("message", getMessage());
    if (extra != null) json.mergeIn(extra);
    return json;
  }

  /** Fails a bus request with this error. */
  public void failReply(Message<?> request) {
    request.fail(code.busCode(), toJson().encode());
  }

  /** Fails the request with whatever went wrong, mapping unknown exceptions to {@code internal}. */
  public static void failReply(Message<?> request, Throwable cause) {
    from(cause, "request").failReply(request);
  }

  /**
   * Turns any failure of a bus request into a ServiceError.
   *
   * @param what names the service or operation, for the message when it could not be reached
   */
  public static ServiceError from(Throwable t, String what) {
    if (t instanceof ServiceError e) return e;
    if (t instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.NO_HANDLERS) {
        return new ServiceError(ErrorCode.UNAVAILABLE, what + " is not available (no service is registered)");
      }
      if (re.failureType() == ReplyFailure.TIMEOUT) {
        return new ServiceError(ErrorCode.UNAVAILABLE, what + " did not answer in time");
      }
      ErrorCode code = ErrorCode.fromBusCode(re.failureCode());
      if (code != null && re.getMessage() != null) {
        try {
          JsonObject json = new JsonObject(re.getMessage());
          String message = json.getString("message", code.wire());
          json.remove("code");
          json.remove("message");
          return new ServiceError(code, message, json.isEmpty() ? null : json);
        } catch (DecodeException ignored) {
          return new ServiceError(code, re.getMessage());
        }
      }
      return new ServiceError(ErrorCode.INTERNAL, what + " failed: " + re.getMessage());
    }
    return new ServiceError(ErrorCode.INTERNAL, what + " failed: " + t);
  }

  public static ServiceError badRequest(String message) {
    return new ServiceError(ErrorCode.BAD_REQUEST, message);
  }
}
