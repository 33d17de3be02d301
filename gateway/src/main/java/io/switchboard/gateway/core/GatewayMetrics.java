package io.switchboard.gateway.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.common.Publication;
import io.vertx.core.Future;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * Gateway meters, exported at {@code /metrics} by the operations server (docs/operations.md lists each). Names and
 * labels follow what Centrifugo dashboards chart ({@code switchboard_node_num_clients},
 * {@code switchboard_messages_sent_total{type}}, {@code switchboard_client_command_duration_seconds{method}} …).
 *
 * <p>Hot-path invariant: a delivery costs no allocation and no lock here — counters are adders created up front
 * (one per message type), fan-out lag is one fixed-bucket histogram record per publication per event loop (not per
 * subscriber), and gauges are read at scrape time from adders or from values each event loop refreshes in its sweep.
 * Shared by all event loops of the JVM.
 */
public final class GatewayMetrics {
  /** Client commands timed in the core, whatever the dialect or HTTP API that asked (the {@code method} label). */
  public enum Command {
    SUBSCRIBE("subscribe"), PUBLISH("publish"), HISTORY("history"), PRESENCE("presence"), PRESENCE_STATE("presence_state"),
    ACK("ack"), PENDING("pending"), RPC("rpc");

    public final String label;

    Command(String label) {
      this.label = label;
    }
  }

  /** Types of what the fan-out writes (the {@code type} label of {@code switchboard_messages_sent_total}). */
  static final String[] SENT_TYPES = {"publication", "join", "leave", "timeout", "state", "ack", "other"};

  /** Latency buckets of commands and bus round trips, in seconds: sub-millisecond up to the request timeout. */
  private static final Duration[] LATENCY_BUCKETS = durations(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5, 1, 2.5, 5, 10);
  /** Fan-out lag buckets, in seconds. */
  private static final Duration[] LAG_BUCKETS = durations(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
      2.5, 5, 10, 30);

  private final MeterRegistry registry;
  /** Open transports (sockets and HTTP streams), authenticated or not. Kept: the HPA and the load tool read it. */
  public final AtomicLong connections = new AtomicLong();
  /** Authenticated sessions (CONNECTED at least once and not yet closed). */
  private final LongAdder clients = new LongAdder();
  /** Connected sessions per app-qualified subject: its size is the number of users. */
  private final ConcurrentHashMap<String, Integer> users = new ConcurrentHashMap<>();
  private final LongAdder subscriptions = new LongAdder();
  private volatile IntSupplier channels = () -> 0;
  public final Counter publishes;
  /** Gaps in a channel's offsets filled from the store (lost or reordered bus messages, settle checks that found some). */
  public final Counter backfills;
  /** Backfills started by the tail check (a subset of backfills): publications lost with none after them. */
  public final Counter tailBackfills;
  private final Counter[] sent = new Counter[SENT_TYPES.length];
  private final Timer fanoutLag;
  private final Timer[] commands = new Timer[Command.values().length];
  private final Counter recovered;
  private final Counter storeReads;
  private final Counter storeReadSubscriptions;
  private final Counter notRecovered;
  private final Map<String, Timer> busRequests = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, Counter[]> disconnects = new ConcurrentHashMap<>();
  /** Each event loop's own meters. */
  private final CopyOnWriteArrayList<Loop> loops = new CopyOnWriteArrayList<>();

  /**
   * One event loop's part: its outbound queue figures (written by the loop's sweep, read by scrapes) and the
   * sampling of the fan-out lag, confined to the loop.
   */
  public final class Loop {
    volatile long queuedSum;
    volatile long queuedMax;
    private int tick;
    private long lastSampled;

    void queues(long sum, long max) {
      this.queuedSum = sum;
      this.queuedMax = max;
    }

    /**
     * The fan-out of one publication on this loop wrote it to {@code written} connections. The lag is sampled: every
     * publication when they come less than {@link #LAG_SAMPLE_MS} apart (by their timestamps), else one in
     * {@link #LAG_SAMPLE_EVERY} — a histogram record and a clock read cost more than the rest of this accounting.
     */
    void sent(Publication p, int written) {
      if (written <= 0) return;
      GatewayMetrics.this.sent[typeOf(p)].increment(written);
      long ts = p.timestamp();
      if (ts <= 0 || (++tick % LAG_SAMPLE_EVERY != 0 && ts - lastSampled < LAG_SAMPLE_MS)) return;
      lastSampled = ts;
      fanoutLag.record(Math.max(0, System.currentTimeMillis() - ts), TimeUnit.MILLISECONDS);
    }
  }

  /** Fan-out lag sampling: at least one publication in this many per event loop… */
  static final int LAG_SAMPLE_EVERY = 8;
  /** …and every publication that comes this long after the last one sampled. */
  static final long LAG_SAMPLE_MS = 100;
  /** Fan-out bus messages this node received: one per publication and interested node, never one per subscriber. */
  public final Counter fanoutReceived;

  public GatewayMetrics(String registryName) {
    MeterRegistry r = BackendRegistries.getNow(registryName);
    registry = r != null ? r : new SimpleMeterRegistry();
    Gauge.builder("switchboard_connections", connections, AtomicLong::get)
        .description("open client transports (WebSockets and HTTP streams), authenticated or not").register(registry);
    Gauge.builder("switchboard_node_num_clients", this, m -> m.clients.sum())
        .description("authenticated client sessions on this node").register(registry);
    Gauge.builder("switchboard_node_num_users", this, m -> m.users.size())
        .description("distinct subjects (per app) with a session on this node").register(registry);
    Gauge.builder("switchboard_node_num_subscriptions", this, m -> m.subscriptions.sum())
        .description("channel subscriptions of the sessions on this node").register(registry);
    Gauge.builder("switchboard_node_num_channels", this, m -> m.channels.getAsInt())
        .description("channels with at least one subscriber on this node").register(registry);
    Gauge.builder("switchboard_client_queued_bytes", this, m -> m.loops.stream().mapToLong(q -> q.queuedSum).sum())
        .description("bytes written to client sockets and not yet taken by the clients, summed over connections (refreshed every sweep)")
        .register(registry);
    Gauge.builder("switchboard_client_queued_bytes_max", this, m -> m.loops.stream().mapToLong(q -> q.queuedMax).max().orElse(0))
        .description("the largest outbound queue of one connection, in bytes (refreshed every sweep); gateway.maxQueueBytes cuts it")
        .register(registry);
    for (int i = 0; i < SENT_TYPES.length; i++) {
      sent[i] = Counter.builder("switchboard_messages_sent").tag("type", SENT_TYPES[i])
          .description("messages the fan-out wrote to client connections, by type").register(registry);
    }
    // the sum of the above, under the name the load tool and older dashboards read
    FunctionCounter.builder("switchboard_deliveries", this, GatewayMetrics::deliveries)
        .description("publications and events written to client connections (all types of switchboard_messages_sent_total)")
        .register(registry);
    publishes = Counter.builder("switchboard_publishes").description("publications accepted (clients and server APIs)").register(registry);
    backfills = Counter.builder("switchboard_backfills").description("channel gaps backfilled from the store").register(registry);
    tailBackfills = Counter.builder("switchboard_tail_backfills")
        .description("backfills started by the tail check: an idle channel's store head was past what was delivered").register(registry);
    fanoutLag = Timer.builder("switchboard_fanout_lag")
        .description("from a publication's store append (its timestamp; the publish on channels without history) to its write to this node's subscribers (sampled)")
        .serviceLevelObjectives(LAG_BUCKETS).register(registry);
    for (Command c : Command.values()) {
      commands[c.ordinal()] = Timer.builder("switchboard_client_command_duration").tag("method", c.label)
          .description("client commands from request to answer, across dialects and HTTP APIs")
          .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
    }
    recovered = Counter.builder("switchboard_client_recover").tag("recovered", "yes")
        .description("subscriptions that asked to recover from a position, by outcome").register(registry);
    notRecovered = Counter.builder("switchboard_client_recover").tag("recovered", "no")
        .description("subscriptions that asked to recover from a position, by outcome").register(registry);
    for (String op : new String[] {"append", "append.batch", "position", "heads", "history", "ack", "pending"}) busTimer("store." + op);
    for (String op : new String[] {"join", "leave", "query", "set_state"}) busTimer("presence." + op);
    storeReads = Counter.builder("switchboard_subscribe_store_reads")
        .description("channel position/recovery reads that subscribes sent to the store (coalesced: one read serves every subscription of the channel waiting on the event loop)")
        .register(registry);
    storeReadSubscriptions = Counter.builder("switchboard_subscribe_store_read_subscriptions")
        .description("subscriptions answered by switchboard_subscribe_store_reads (their ratio is the coalescing)").register(registry);
    fanoutReceived = Counter.builder("switchboard_fanout_messages_received")
        .description("fan-out bus messages received by this gateway node (one per publication, not per subscriber)").register(registry);
  }

  /**
   * Fan-out bus messages sent by one JVM's router, whatever runs there (the store and presence send most of them, so
   * the launcher registers this in every JVM): one per publication and interested gateway node.
   */
  public static void fanoutSent(String registryName, io.switchboard.common.Fanout fanout) {
    MeterRegistry r = BackendRegistries.getNow(registryName);
    if (r == null) return;
    io.micrometer.core.instrument.FunctionCounter.builder("switchboard_fanout_messages_sent", fanout, io.switchboard.common.Fanout::sent)
        .description("fan-out bus messages sent by this JVM to gateway nodes").register(r);
  }

  private static Duration[] durations(double... seconds) {
    Duration[] d = new Duration[seconds.length];
    for (int i = 0; i < seconds.length; i++) d[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
    return d;
  }

  private double deliveries() {
    double n = 0;
    for (Counter c : sent) n += c.count();
    return n;
  }

  // --- gauges' sources ---------------------------------------------------------------------------

  /** A session became CONNECTED for the first time. */
  void clientUp(io.switchboard.gateway.Claims c, io.switchboard.common.App app) {
    clients.increment();
    users.merge(userKey(app, c.subject()), 1, Integer::sum);
  }

  /** A session that had been CONNECTED closed. */
  void clientDown(Session s) {
    clients.decrement();
    users.computeIfPresent(userKey(s.app, s.subject()), (k, n) -> n <= 1 ? null : n - 1);
  }

  private static String userKey(io.switchboard.common.App app, String subject) {
    String sub = subject == null ? "" : subject;
    return app.isDefault() ? sub : app.id() + '\u0000' + sub;
  }

  void subscribed() {
    subscriptions.increment();
  }

  void unsubscribed() {
    subscriptions.decrement();
  }

  /** Where the node's channel count comes from (the gateway service's interest index). */
  public void channels(IntSupplier count) {
    this.channels = count;
  }

  /** An event loop's own meters. */
  Loop loop() {
    Loop l = new Loop();
    loops.add(l);
    return l;
  }

  // --- events ------------------------------------------------------------------------------------

  static int typeOf(Publication p) {
    if (p.id() != null) return 0;
    String e = p.event();
    if (e == null) return SENT_TYPES.length - 1;
    return switch (e) {
      case "presence.join" -> 1;
      case "presence.leave" -> 2;
      case "presence.timeout" -> 3;
      case "presence.state" -> 4;
      case "message.acked" -> 5;
      default -> SENT_TYPES.length - 1;
    };
  }

  /** Times a command from {@code startNanos} until {@code result} completes; returns {@code result}. */
  <T> Future<T> timed(Command c, long startNanos, Future<T> result) {
    Timer t = commands[c.ordinal()];
    return result.onComplete(ar -> t.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS));
  }

  /** One coalesced store request: {@code channels} channel reads serving {@code subscriptions} subscriptions. */
  void storeReads(int channels, int subscriptions) {
    storeReads.increment(channels);
    storeReadSubscriptions.increment(subscriptions);
  }

  /** A subscription asked to recover; whether it was. */
  void recover(boolean ok) {
    (ok ? recovered : notRecovered).increment();
  }

  /** The timer of a bus round trip to a store or presence address; null for other addresses (not timed). */
  Timer busTimer(String address) {
    Timer t = busRequests.get(address);
    if (t != null || !(address.startsWith("store.") || address.startsWith("presence."))) return t;
    String service = address.substring(0, address.indexOf('.'));
    return busRequests.computeIfAbsent(address, a -> Timer.builder("switchboard_" + service + "_request_duration")
        .tag("op", a.substring(service.length() + 1))
        .description("gateway round trips over the event bus to the " + (service.equals("store") ? "message store" : "presence service")
            + ", by operation")
        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry));
  }

  /** A session closed by the server, with its dialect's close code and the protocol-neutral reason. */
  public void disconnect(int code, Disconnect reason) {
    Counter[] byReason = disconnects.computeIfAbsent(code, c -> new Counter[Disconnect.values().length + 1]);
    int i = reason == null ? byReason.length - 1 : reason.ordinal();
    Counter counter = byReason[i];
    if (counter == null) {
      synchronized (byReason) {
        if (byReason[i] == null) {
          String r = reason == null ? "other" : reason.name().toLowerCase(java.util.Locale.ROOT);
          byReason[i] = Counter.builder("switchboard_server_disconnects").tag("code", Integer.toString(code)).tag("reason", r)
              .description("sessions closed by the server, by close code (each dialect has its own) and reason").register(registry);
        }
        counter = byReason[i];
      }
    }
    counter.increment();
    legacyDisconnects.computeIfAbsent(code, c -> Counter.builder("switchboard_disconnects")
        .description("sessions closed by the server, by close code (kept for the load tool; see switchboard_server_disconnects_total)")
        .tag("code", Integer.toString(c)).register(registry)).increment();
  }

  private final ConcurrentHashMap<Integer, Counter> legacyDisconnects = new ConcurrentHashMap<>();
}
