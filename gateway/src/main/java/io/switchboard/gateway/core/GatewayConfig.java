package io.switchboard.gateway.core;

import io.switchboard.common.Namespaces;
import io.vertx.core.json.JsonObject;

/** The gateway's view of the validated config (see common Defaults for meanings and defaults). */
public record GatewayConfig(
    String host,
    int port,
    int instances,
    int maxFrameBytes,
    int maxQueueBytes,
    long connectTimeoutMs,
    long pingIntervalMs,
    long pongTimeoutMs,
    int maxSubscriptions,
    int maxConnectionsPerSubject,
    double publishRatePerSecond,
    int publishBurst,
    int violationLimit,
    long violationWindowMs,
    long requestTimeoutMs,
    long presenceRefreshMs,
    int maxHistoryLimit,
    Namespaces namespaces,
    long tailCheckMs) {

  public static GatewayConfig from(JsonObject config) {
    JsonObject g = config.getJsonObject("gateway");
    int instances = g.getInteger("instances");
    long presenceTimeoutMs = config.getJsonObject("presence").getLong("timeoutSeconds") * 1000L;
    long refresh = g.getLong("presenceRefreshMs");
    return new GatewayConfig(
        g.getString("host"),
        g.getInteger("port"),
        instances > 0 ? instances : Math.max(1, Runtime.getRuntime().availableProcessors()),
        g.getInteger("maxFrameBytes"),
        g.getInteger("maxQueueBytes"),
        g.getLong("connectTimeoutMs"),
        g.getLong("pingIntervalMs"),
        g.getLong("pongTimeoutMs"),
        g.getInteger("maxSubscriptions"),
        g.getInteger("maxConnectionsPerSubject"),
        g.getInteger("publishRatePerSecond"),
        g.getInteger("publishBurst"),
        g.getInteger("violationLimit"),
        g.getLong("violationWindowMs"),
        g.getLong("requestTimeoutMs"),
        // members are refreshed three times per timeout so one lost batch never expires anyone
        refresh > 0 ? refresh : Math.max(100, presenceTimeoutMs / 3),
        config.getJsonObject("store").getInteger("maxHistoryLimit"),
        Namespaces.fromConfig(config.getJsonObject("channels")),
        g.getLong("tailCheckMs"));
  }

  /** How often the housekeeping sweep runs: fine enough for the shortest deadline it enforces. */
  public long sweepIntervalMs() {
    long shortest = Math.min(Math.min(pingIntervalMs, pongTimeoutMs), connectTimeoutMs);
    return Math.max(20, Math.min(1000, shortest / 4));
  }
}
