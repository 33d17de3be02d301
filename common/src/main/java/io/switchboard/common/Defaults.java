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
  /**
   * Centrifuge clients refresh their token when its ttl ends; this long after expiry the connection is closed (3005),
   * as Centrifugo's {@code client.expired_close_delay}.
   */
  public static final long CENTRIFUGE_EXPIRED_CLOSE_DELAY_MS = 25_000;

  /**
   * The deepest nesting of objects/arrays accepted in untrusted JSON: a whole frame or HTTP body, and any client
   * value stored or relayed (publication data, presence state and info). See {@link SafeJson}.
   *
   * <p>Why 32: application payloads rarely nest more than about 10 levels, so 32 leaves ample room; every reply
   * wraps a stored value a few levels deeper (reply, list, publication, data), so the deepest reply stays far below
   * Jackson's write limit (1,000) and every recursive walk (encode, copy, cluster codec) uses a small, bounded stack.
   * Not configurable: raising it buys nothing an application needs and re-opens the stack-depth attack.
   */
  public static final int MAX_JSON_DEPTH = 32;

  /**
   * How far a token's {@code iat} / {@code nbf} may lie in the verifier's future (clocks of auth and gateway hosts
   * differ a little). Beyond it a token is refused: an {@code iat} far ahead would escape subject revocations, which
   * void tokens issued at or before the revocation.
   */
  public static final int TOKEN_CLOCK_SKEW_SECONDS = 60;

  /**
   * Position/recovery reads of subscribes that one gateway event loop has at the store at once (each a
   * {@code store.position} request for up to {@link #STORE_READ_CHANNELS} channels, every channel's subscribers
   * sharing one read); the rest wait in the gateway, where waiting is not failing. Why 4: a reconnect storm then
   * asks the store for at most 4 requests per loop and round trip, which it answers well within the bus timeout,
   * while a quiet gateway never waits (a read is sent at once while fewer are in flight).
   */
  public static final int STORE_READS_IN_FLIGHT = 4;
  /** Channels per coalesced position/recovery request (see {@link #STORE_READS_IN_FLIGHT}). */
  public static final int STORE_READ_CHANNELS = 100;

  /** The default tree. A fresh copy each call: callers may mutate it. */
  public static JsonObject tree() {
    return new JsonObject()
        // memory (one JVM, no setup) or redis (required once more than one JVM runs)
        .put("engine", "memory")
        .put("redis", new JsonObject().put("url", "redis://127.0.0.1:6379").put("poolSize", 16))
        // empty: generated at start and printed once
        .put("adminKey", "")
        // text: one readable line per event; json: one JSON object per line (node, connection, subject, channel);
        // accessLog: one line per HTTP request of the auth API and the operations endpoints
        .put("logging", new JsonObject().put("format", "text").put("accessLog", false))
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
            // a channel that received nothing for this long has its store head checked: publications lost on the bus
            // with none after them to reveal the gap reach subscribers within this period (see gateway ChannelHub)
            .put("tailCheckMs", 30_000)
            // single-use SSE/stream tickets (POST /v1/tickets) are valid this long
            .put("ticketTtlMs", 30_000)
            // longest hold of a long-poll (GET /v1/poll?wait=…)
            .put("maxPollWaitSeconds", 60)
            // PubNub clients listening to <ch>-pnpres get an interval occupancy event this often (0 = never)
            .put("pubnubPresenceIntervalSeconds", 10)
            // long-polls held at once by one gateway (every event loop); 0 = no bound
            .put("maxHeldPolls", 100_000))
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
            .put("maxAckIds", 1000)
            // encoded bytes of the publications in one history/pending page or one position (recovery) answer; a
            // page cut by it says more:true and where to continue. Keep well under gateway.maxQueueBytes: the
            // gateway queues the whole answer for one client at once
            .put("maxHistoryBytes", 256 * 1024))
        .put("presence", new JsonObject()
            .put("timeoutSeconds", 60)
            .put("sweepIntervalMs", 1000))
        // webhooks of the apps (apps[].webhooks): queue, batching, retries. See docs/pusher.md
        .put("webhooks", new JsonObject()
            // channel_vacated / member_removed wait this long and are dropped with their pair when the channel is
            // re-occupied / the user re-joins meanwhile (Pusher: about 3 s)
            .put("holdMs", 3000)
            // a failing delivery is retried with exponential backoff from backoffMs up to maxBackoffMs, until it
            // has been failing for retryForSeconds; then it is dropped (logged, counted)
            .put("retryForSeconds", 300)
            .put("backoffMs", 1000)
            .put("maxBackoffMs", 60_000)
            // events per request; events due together go in one request per webhook
            .put("maxBatch", 100)
            .put("pollMs", 100)
            .put("timeoutMs", 10_000))
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
            .put("eventBusPort", 0)
            // a JVM that was paused (GC, stopped VM, SIGSTOP, starvation) this long is about to be, or was, taken for
            // dead by the others (Hazelcast's heartbeat timeout is 8 s; the paused member's own view of the others
            // expires as fast, so it may leave on its own at ~8 s): it fences itself (not ready; its gateway sends clients elsewhere)
            // until the cluster routes messages to it again
            .put("fenceAfterPauseMs", 6_000)
            // fenced longer than this: /health/live fails too, so an orchestrator restarts the JVM (it did not rejoin)
            .put("fenceMaxMs", 60_000))
        // apps: [{id, key, secret, name?, enabled?, clientEvents?, maxConnections?, webhooks?: [{url, events?}], …}]
        // (see App); none = one "default" app. SWITCHBOARD_APPS takes the same list as JSON.
        .put("apps", new io.vertx.core.json.JsonArray())
        .put("channels", new JsonObject()
            // false: any namespace works with the defaults below; true: only namespaces listed (plus "" and user)
            .put("strictNamespaces", false)
            .put("defaults", NamespaceOptions.DEFAULT.toJson())
            .put("namespaces", new JsonObject()));
  }
}
