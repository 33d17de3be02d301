package io.switchboard.launcher;

import io.switchboard.common.Config;
import io.switchboard.common.ConfigException;
import io.switchboard.common.Defaults;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code genconfig} and {@code check-config}. The generated file is {@link Defaults#tree()} itself, walked key by
 * key, so it can never drift from what the server uses; only the comments live here ({@link #DESCRIPTIONS}, one
 * per key — ConfigCommandsTest fails when a key has none).
 */
final class ConfigCommands {
  private ConfigCommands() {}

  static final String GENCONFIG_USAGE = """
      usage: switchboard genconfig [--output FILE] [--force] [--json]
        writes a complete configuration with every key at its default and a comment saying what it does;
        edit what you need, delete the rest, start with `switchboard serve --config FILE`
        --output FILE   write to FILE instead of standard output (refuses to overwrite without --force)
        --json          the same settings as JSON, without comments""";

  static final String CHECK_USAGE = """
      usage: switchboard check-config [--config FILE] [--services LIST] [--cluster] [--json]
        validates the configuration exactly as start-up does (defaults, FILE, then SWITCHBOARD_* environment):
        exit 0 when it would start, 2 with the same message start-up prints when not
        (also: switchboard --config FILE --check-config)""";

  /** Keys set by the server itself, not by operators. */
  static final Set<String> INTERNAL = Set.of("operations.registryName");

  /** What each key (dotted path) means, for the comments of the generated file. */
  static final Map<String, String> DESCRIPTIONS = new LinkedHashMap<>();

  static {
    d("engine", "storage engine: memory (everything in this one JVM, no setup) or redis (history, acks and presence survive restarts; needed for more than one JVM)");
    d("redis", "Redis connection (engine: redis)");
    d("redis.url", "redis://host:port, rediss:// for TLS, redis-sentinel://h:p,h:p/master or redis-cluster://h:p,h:p");
    d("redis.poolSize", "connections per service");
    d("adminKey", "the operator's key for the auth API; empty = generated at start and printed once. Prefer SWITCHBOARD_ADMIN_KEY to keeping it in a file");
    d("logging", "logs on standard error");
    d("logging.accessLog", "true: one line per HTTP request of the auth API and the operations endpoints (method, path, status, ms, remote)");
    d("logging.format", "text (one readable line per event) or json (one JSON object per line with ts, level, logger, msg and node, connection, subject, channel when known)");
    d("operations", "per-JVM operations endpoints: /metrics (Prometheus), /health/live, /health/ready");
    d("operations.host", "address to bind");
    d("operations.port", "port (0 = any free port)");
    d("gateway", "the WebSocket gateway (endpoint /ws, native protocol v1)");
    d("gateway.host", "address to bind");
    d("gateway.port", "port (0 = any free port)");
    d("gateway.instances", "gateway event loops (also the JVM's event-loop pool, shared by the other services); 0 = one per core");
    d("gateway.maxFrameBytes", "largest frame a client may send (UTF-8 bytes); larger ones close the connection with 1009");
    d("gateway.maxQueueBytes", "unread bytes queued for one client before it is cut as a slow consumer (4500)");
    d("gateway.connectTimeoutMs", "time a new connection has to send connect (then 4503)");
    d("gateway.pingIntervalMs", "interval of the server's WebSocket pings");
    d("gateway.pongTimeoutMs", "no pong within this time closes the connection (4502)");
    d("gateway.maxSubscriptions", "subscriptions per connection, the personal channel included (limit_exceeded)");
    d("gateway.maxConnectionsPerSubject", "connections per subject on one gateway JVM; 0 = unlimited (4004)");
    d("gateway.publishRatePerSecond", "sustained publishes per connection (token bucket; rate_limited with retryAfterMs)");
    d("gateway.publishBurst", "burst size of that token bucket");
    d("gateway.violationLimit", "protocol violations tolerated per window before the connection is closed (4002)");
    d("gateway.violationWindowMs", "the window of violationLimit");
    d("gateway.requestTimeoutMs", "how long the gateway waits for a service before answering unavailable");
    d("gateway.tailCheckMs", "a channel idle this long has its store head checked, so publications lost on the bus reach subscribers without waiting for a next one");
    d("gateway.presenceRefreshMs", "how often a gateway refreshes its presence members; 0 = presence.timeoutSeconds / 3");
    d("auth", "the auth service: tokens, API keys, revocations, JWKS (HTTP API)");
    d("auth.host", "address to bind");
    d("auth.port", "port (0 = any free port)");
    d("auth.issuer", "iss claim of minted tokens, checked by every gateway");
    d("auth.tokenTtlSeconds", "lifetime of a token when the request names none");
    d("auth.maxTokenTtlSeconds", "the longest lifetime a token may be given");
    d("auth.privateKeyPem", "ES256 private key (PEM text or a file path); empty = a key pair generated at start (tokens then die with the JVM)");
    d("auth.publicKeyPem", "its public key (PEM text or a file path)");
    d("auth.keyId", "kid of the key in tokens and the JWKS; empty = derived from the key");
    d("store", "the message store: offsets, history, recovery, acks, idempotency");
    d("store.idempotencyWindowSeconds", "how long a repeated idempotencyKey returns the first result");
    d("store.maxHistoryLimit", "largest history page a client may ask for");
    d("store.maxAckIds", "most publication ids in one ack");
    d("store.maxHistoryBytes", "bytes of publications in one history, pending or recovery answer; a cut page says more: true and where to continue (keep well under gateway.maxQueueBytes)");
    d("gateway.ticketTtlMs", "how long a single-use SSE/stream ticket (POST /v1/tickets) stays valid");
    d("gateway.maxPollWaitSeconds", "longest wait a long-poll (GET /v1/poll?wait=) may ask for");
    d("gateway.pubnubPresenceIntervalSeconds", "how often PubNub clients subscribed to <channel>-pnpres get an interval event with the channel's occupancy; 0 = never");
    d("gateway.maxHeldPolls", "long-polls one gateway holds at once (every event loop); past it a poll is refused with limit_exceeded; 0 = no bound");
    d("proxy", "HTTP proxies to the app backend: a URL enables each (empty = off)");
    d("proxy.connectUrl", "POST here to exchange a cookie/session for an identity when a client connects without a token");
    d("proxy.rpcUrl", "POST here a client's unknown method (the answer or a typed error goes back to the client)");
    d("proxy.subscribeUrl", "POST here to allow or refuse a subscription the token's grants do not cover");
    d("proxy.publishUrl", "POST here to validate or rewrite a client publication before it is stored");
    d("proxy.subscribeNamespaces", "comma list of namespaces the subscribe proxy applies to; empty = every namespace");
    d("proxy.publishNamespaces", "comma list of namespaces the publish proxy applies to; empty = every namespace");
    d("proxy.timeoutMs", "how long one proxy call may take");
    d("proxy.retries", "extra attempts of idempotent calls (connect, subscribe) after a failure or timeout");
    d("proxy.breakerFailures", "consecutive failures that open a proxy's circuit (clients then get unavailable at once)");
    d("proxy.breakerResetMs", "how long an open circuit stays open before a trial call");
    d("apps", "apps: [{id, key, secret, name, enabled, clientEvents, clientEventsPerSecond, maxConnections, maxPresenceMembers, maxPresenceInfoBytes, maxPayloadBytes, webhooks: [{url, events}], proxies}]; none = one app, default (Pusher clients need an app with a key and secret).\n"
        + "proxies: the app's own HTTP proxies to its backend, the keys of the proxy section (rpcUrl, subscribeUrl, publishUrl, connectUrl,\n"
        + "  subscribeNamespaces, publishNamespaces, timeoutMs, retries, breakerFailures, breakerResetMs) plus per-namespace overrides\n"
        + "  namespaces: {room: {subscribeUrl, publishUrl}} (\"\" = off there); an app without proxies uses the proxy section");
    d("webhooks", "delivery of the apps' webhooks (Pusher format, signed with the app secret)");
    d("webhooks.holdMs", "channel_vacated / member_removed wait this long and are dropped with their pair when the channel is re-occupied or the user re-joins (Pusher: about 3 s)");
    d("webhooks.retryForSeconds", "a failing webhook is retried until it has failed for this long, then dropped (logged and counted)");
    d("webhooks.backoffMs", "first retry delay; doubles up to webhooks.maxBackoffMs");
    d("webhooks.maxBackoffMs", "longest retry delay");
    d("webhooks.maxBatch", "events per webhook request");
    d("webhooks.pollMs", "how often due events are sent");
    d("webhooks.timeoutMs", "how long a webhook request may take before it counts as failed");
    d("presence", "the presence service");
    d("presence.timeoutSeconds", "a member whose gateway stopped refreshing it leaves after this long (presence.timeout)");
    d("presence.sweepIntervalMs", "how often timed-out members are looked for");
    d("cluster", "cluster mode (serve --cluster, engine redis): Hazelcast membership and the clustered event bus");
    d("cluster.name", "cluster name; JVMs join only a cluster of the same name");
    d("cluster.host", "IP to bind and advertise (the pod IP on Kubernetes); empty = Hazelcast picks an interface");
    d("cluster.port", "Hazelcast port (the next ones are tried when taken)");
    d("cluster.members", "TCP-IP join: comma list of host:port or host:5701-5705; empty = host (or 127.0.0.1) ports port..port+9");
    d("cluster.kubernetesServiceDns", "Kubernetes DNS discovery through a headless Service instead of members, e.g. switchboard-hz.default.svc.cluster.local");
    d("cluster.eventBusPort", "clustered event bus port; 0 = any free port");
    d("cluster.fenceAfterPauseMs", "a JVM paused at least this long (GC, stopped VM) fences itself: not ready, its gateway sends clients elsewhere, until the cluster routes to it again");
    d("cluster.fenceMaxMs", "fenced longer than this: /health/live fails too, so the orchestrator restarts the JVM");
    d("channels", "channel namespaces: the part of a channel name before the first ':'");
    d("channels.strictNamespaces", "false: any namespace works with channels.defaults; true: only the namespaces listed below (plus the default one and user), others get unknown_channel");
    d("channels.defaults", "options of every namespace not listed in channels.namespaces");
    d("channels.defaults.historySize", "publications kept per channel; 0 = ephemeral (no store, no offsets, at-most-once)");
    d("channels.defaults.historyTtlSeconds", "how long a publication stays in history");
    d("channels.defaults.presence", "keep presence members");
    d("channels.defaults.joinLeave", "send presence.join / presence.leave / presence.timeout events");
    d("channels.defaults.clientPublish", "clients may publish (false: only the server side)");
    d("channels.defaults.recovery", "clients may recover missed publications on subscribe");
    d("channels.defaults.publishRatePerSecond", "publishes per second per channel, across all publishers; 0 = unlimited");
    d("channels.namespaces", "options per namespace, over the defaults, e.g.\n"
        + "  task: {}\n"
        + "  typing: { historySize: 0, presence: false }\n"
        + "  feed: { clientPublish: false }");
  }

  private static void d(String key, String text) {
    DESCRIPTIONS.put(key, text);
  }

  static int genconfig(List<String> args, PrintStream out) {
    CliArgs a = CliArgs.parse(args, Set.of("--output"), Set.of("--force", "--json"));
    if (a.flag("--help")) {
      out.println(GENCONFIG_USAGE);
      return Main.EXIT_OK;
    }
    a.atMostPositionals(0);
    JsonObject tree = Defaults.tree();
    for (String key : INTERNAL) remove(tree, key);
    String text = a.flag("--json") ? tree.encodePrettily() + "\n" : yaml();
    String output = a.value("--output", null);
    if (output == null) {
      out.print(text);
      out.flush();
      return Main.EXIT_OK;
    }
    Path file = Path.of(output);
    if (Files.exists(file) && !a.flag("--force")) throw CliArgs.usage(file + " exists; --force overwrites it");
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new CliArgs.CliError(Main.EXIT_FAILED, "cannot write " + file + ": " + e.getMessage());
    }
    out.println("wrote " + file + " (every setting at its default; start with: switchboard serve --config " + file + ")");
    return Main.EXIT_OK;
  }

  /** The defaults as commented YAML. */
  static String yaml() {
    StringBuilder b = new StringBuilder();
    b.append("# Switchboard configuration: every setting at its default (generated by `switchboard genconfig`).\n")
        .append("# Delete what you do not change. Any key a.bKey can also be set in the environment as SWITCHBOARD_A_B_KEY,\n")
        .append("# which overrides this file. Check a file with: switchboard check-config --config FILE\n");
    write(b, Defaults.tree(), "", 0);
    return b.toString();
  }

  private static void write(StringBuilder b, JsonObject node, String path, int depth) {
    String indent = "  ".repeat(depth);
    for (String field : node.fieldNames()) {
      String key = path.isEmpty() ? field : path + "." + field;
      if (INTERNAL.contains(key)) continue;
      Object v = node.getValue(field);
      if (depth == 0) b.append('\n');
      String text = DESCRIPTIONS.get(key);
      if (text != null) {
        for (String line : text.split("\n")) b.append(indent).append("# ").append(line).append('\n');
      }
      b.append(indent).append(field).append(':');
      if (v instanceof JsonObject o && !o.isEmpty()) {
        b.append('\n');
        write(b, o, key, depth + 1);
      } else {
        b.append(' ').append(scalar(v)).append('\n');
      }
    }
  }

  /** A YAML scalar: strings JSON-quoted (valid YAML, and never read as a number or boolean). */
  private static String scalar(Object v) {
    if (v instanceof JsonObject) return "{}";
    if (v instanceof String s) return new io.vertx.core.json.JsonArray().add(s).encode().replaceAll("^\\[|\\]$", "");
    return String.valueOf(v);
  }

  private static void remove(JsonObject tree, String dotted) {
    String[] parts = dotted.split("\\.");
    JsonObject cur = tree;
    for (int i = 0; i < parts.length - 1; i++) cur = cur.getJsonObject(parts[i]);
    cur.remove(parts[parts.length - 1]);
  }

  static int checkConfig(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) {
    CliArgs a = CliArgs.parse(args, Set.of("--config", "--services"), Set.of("--cluster", "--json"));
    if (a.flag("--help")) {
      out.println(CHECK_USAGE);
      return Main.EXIT_OK;
    }
    a.atMostPositionals(0);
    String file = a.value("--config", null);
    JsonObject config;
    Set<Service> services;
    try {
      config = Config.load(file == null ? null : Path.of(file), env);
      services = Service.parse(a.value("--services", null));
      if (a.flag("--cluster")) Switchboard.checkClusterable(config, services);
    } catch (ConfigException | IllegalArgumentException e) {
      if (a.flag("--json")) out.println(new JsonObject().put("ok", false).put("error", e.getMessage()).encode());
      // the very message start-up prints, so an operator sees in CI what the server would say
      throw CliArgs.usage(e.getMessage());
    }
    if (a.flag("--json")) {
      out.println(new JsonObject().put("ok", true).put("engine", config.getString("engine"))
          .put("services", services.stream().map(s -> s.cliName).toList()).put("config", redacted(config)).encode());
    } else {
      out.println("configuration OK: engine " + config.getString("engine") + ", services "
          + services.stream().map(s -> s.cliName).toList() + (file == null ? ", defaults and environment" : ", file " + file));
    }
    return Main.EXIT_OK;
  }

  /** The effective configuration without its secrets. */
  static JsonObject redacted(JsonObject config) {
    JsonObject c = config.copy();
    if (!c.getString("adminKey").isEmpty()) c.put("adminKey", "(set)");
    JsonObject auth = c.getJsonObject("auth");
    if (!auth.getString("privateKeyPem").isEmpty()) auth.put("privateKeyPem", "(set)");
    c.getJsonObject("operations").remove("registryName");
    return c;
  }
}
