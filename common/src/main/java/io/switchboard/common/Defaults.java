package io.switchboard.common;

import io.vertx.core.json.JsonObject;

/**
 * Every configuration key with its default, in one place. {@link Config} validates a user's file and environment
 * against this tree: a key not here is a typo, a value of another type is an error naming the key.
 */
public final class Defaults {
  private Defaults() {}

  public static final int GATEWAY_PORT = 8080;
  public static final int AUTH_PORT = 8081;
  public static final int OPERATIONS_PORT = 9090;

  /** The default tree. A fresh copy each call: callers may mutate it. */
  public static JsonObject tree() {
    return new JsonObject()
        // memory (one JVM, no setup) or redis (required once more than one JVM runs)
        .put("engine", "memory")
        .put("redis", new JsonObject().put("url", "redis://127.0.0.1:6379").put("poolSize", 16))
        // empty: generated at start and printed once
        .put("adminKey", "")
        // registryName: the Micrometer registry of this JVM's Switchboard (set at start; tests run several)
        .put("operations", new JsonObject().put("host", "0.0.0.0").put("port", OPERATIONS_PORT).put("registryName", "default"))
        .put("gateway", new JsonObject()
            .put("host", "0.0.0.0")
            .put("port", GATEWAY_PORT)
            // 0 = one per core
            .put("instances", 0)
            .put("maxFrameBytes", 64 * 1024)
            .put("maxQueueBytes", 1024 * 1024)
            .put("connectTimeoutMs", 10_000)
            .put("pingIntervalMs", 25_000)
            .put("pongTimeoutMs", 10_000)
            .put("maxSubscriptions", 512)
            .put("maxConnectionsPerSubject", 0)
            // token bucket per connection: sustained rate and burst
            .put("publishRatePerSecond", 100)
            .put("publishBurst", 200)
            .put("violationLimit", 10)
            .put("violationWindowMs", 10_000)
            .put("requestTimeoutMs", 5_000)
            .put("presenceRefreshMs", 0)
            // single-use SSE/stream tickets (POST /v1/tickets) are valid this long
            .put("ticketTtlMs", 30_000)
            // longest hold of a long-poll (GET /v1/poll?wait=…)
            .put("maxPollWaitSeconds", 60))
        // HTTP proxies to the app backend (docs/http.md): "" = not used
        .put("proxy", new JsonObject()
            .put("connectUrl", "")
            .put("rpcUrl", "")
            .put("subscribeUrl", "")
            .put("publishUrl", "")
            // comma lists of namespaces the subscribe/publish proxies apply to; "" = every namespace
            .put("subscribeNamespaces", "")
            .put("publishNamespaces", "")
            .put("timeoutMs", 3000)
            // extra attempts of idempotent calls (connect, subscribe) after a failure or timeout
            .put("retries", 2)
            // consecutive failures that open the circuit; how long it stays open before a trial call
            .put("breakerFailures", 5)
            .put("breakerResetMs", 10_000))
        .put("auth", new JsonObject()
            .put("host", "0.0.0.0")
            .put("port", AUTH_PORT)
            .put("issuer", "switchboard")
            .put("tokenTtlSeconds", 3600)
            .put("maxTokenTtlSeconds", 7 * 24 * 3600)
            // PEM text or file paths; empty = an ES256 key pair generated at start
            .put("privateKeyPem", "")
            .put("publicKeyPem", "")
            .put("keyId", ""))
        .put("store", new JsonObject()
            .put("idempotencyWindowSeconds", 120)
            .put("maxHistoryLimit", 1000)
            .put("maxAckIds", 1000))
        .put("presence", new JsonObject()
            .put("timeoutSeconds", 60)
            .put("sweepIntervalMs", 1000))
        // cluster mode (--cluster): Hazelcast membership and the clustered event bus
        .put("cluster", new JsonObject()
            .put("name", "switchboard")
            // IP to bind and advertise (the pod IP on Kubernetes); "" = let Hazelcast pick an interface
            .put("host", "")
            .put("port", 5701)
            // TCP-IP join: comma list of host:port; "" = host (or 127.0.0.1) ports port..port+9
            .put("members", "")
            // Kubernetes DNS discovery through a headless Service, e.g. switchboard-hz.default.svc.cluster.local
            .put("kubernetesServiceDns", "")
            // clustered event bus port; 0 = any free port
            .put("eventBusPort", 0))
        .put("channels", new JsonObject()
            // false: any namespace works with the defaults below; true: only namespaces listed (plus "" and user)
            .put("strictNamespaces", false)
            .put("defaults", NamespaceOptions.DEFAULT.toJson())
            .put("namespaces", new JsonObject()));
  }
}
