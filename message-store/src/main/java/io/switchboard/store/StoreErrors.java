package io.switchboard.store;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.json.JsonObject;

/** The store's typed failures, worded once for both engines. */
final class StoreErrors {
  private StoreErrors() {}

  static ServiceError rateLimited(String channel, int perSecond, long retryAfterMs) {
    return new ServiceError(ErrorCode.RATE_LIMITED,
        "channel " + channel + " accepts at most " + perSecond + " publications per second",
        new JsonObject().put("retryAfterMs", Math.max(1, retryAfterMs)));
  }

  static ServiceError wrongEpoch(String channel, String given, String current) {
    return new ServiceError(ErrorCode.UNRECOVERABLE_POSITION,
        "since.epoch '" + given + "' is not the current epoch '" + current + "' of channel " + channel
            + " (its history was lost); reload and use the current position");
  }

  static ServiceError aheadOfChannel(String channel, long given, long current) {
    return new ServiceError(ErrorCode.UNRECOVERABLE_POSITION,
        "since.offset " + given + " is past the last offset " + current + " of channel " + channel);
  }

  static ServiceError ephemeral(String channel) {
    return ServiceError.badRequest("channel " + channel + " is ephemeral (historySize 0 or historyTtlSeconds 0): "
        + "it is not stored and has no history");
  }
}
