package io.switchboard.gateway.core;

import io.switchboard.common.App;
import io.switchboard.common.Addresses;
import io.switchboard.common.Fanout;
import io.switchboard.common.Publication;
import io.switchboard.gateway.Claims;
import io.switchboard.gateway.TokenVerifier;
import io.switchboard.gateway.transport.Flusher;
import io.switchboard.gateway.transport.WebSocketTransport;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The session core of one gateway event loop: its sessions, its channel hub, and the operations every dialect and
 * HTTP API share. All state is confined to the loop.
 *
 * <p>Timers are per event loop, never per session: one housekeeping sweep enforces connect timeouts, liveness and
 * token expiry for every session, and one presence refresh keeps all of its members alive in a single bus message.
 */
public final class GatewayLoop {
  private static final System.Logger LOG = System.getLogger(GatewayLoop.class.getName());
  public final Vertx vertx;
  public final GatewayConfig cfg;
  public final TokenVerifier verifier;
  public final SubjectLimits subjectLimits;
  public final GatewayMetrics metrics;
  public final String node;
  public final EventBus bus;
  public final Fanout fanout;
  public final ChannelHub hub;
  public final ChannelAccess access;
  public final ChannelOps ops;
  public final Subscriptions subscriptions;
  /** The subscribes' position/recovery reads, coalesced per channel and admitted at a bounded rate. */
  final StoreReads storeReads;
  public final Apps apps;
  public final ChannelStats stats;
  /** Flush coalescing for every connection of this loop. */
  public final Flusher flusher;
  /** The app backend's proxies (set by the HTTP endpoint when configured); NONE otherwise. */
  public AppBackend backend = AppBackend.NONE;
  final Map<String, Session> sessions = new HashMap<>();
  private final DeliveryOptions requestTimeout;
  /** Set by drain(): new sessions are refused while existing ones are told to reconnect elsewhere. */
  private boolean draining;
  /** Set while the launcher's cluster fence is up (a long pause may have cost this JVM its cluster membership). */
  private boolean fenced;
  /** A {@link #checkTailsSoon} check is scheduled. */
  private boolean tailCheckSoon;
  /** A quiet-tails check is running; {@link #quietCheckAgain}: the mark of one to run after it (0: none). */
  private boolean quietCheckRunning;
  private int quietCheckAgain;
  /** This loop's part of the metrics (outbound queue figures, fan-out lag sampling). */
  private final GatewayMetrics.Loop meters;

  public GatewayLoop(Vertx vertx, GatewayConfig cfg, Apps apps, TokenVerifier verifier, SubjectLimits subjectLimits,
      GatewayMetrics metrics, String node, ChannelHub.Interest interest, Flusher flusher) {
    this.vertx = vertx;
    this.flusher = flusher;
    this.cfg = cfg;
    this.apps = apps;
    this.verifier = verifier;
    this.subjectLimits = subjectLimits;
    this.metrics = metrics;
    this.meters = metrics.loop();
    this.node = node;
    this.bus = vertx.eventBus();
    this.fanout = Fanout.of(vertx);
    this.requestTimeout = new DeliveryOptions().setSendTimeout(cfg.requestTimeoutMs());
    this.hub = new ChannelHub(vertx, interest, this::storedAfter, this::storedSince, metrics);
    this.access = new ChannelAccess(cfg.namespaces());
    this.ops = new ChannelOps(this);
    this.storeReads = new StoreReads(this);
    this.subscriptions = new Subscriptions(this);
    this.stats = new ChannelStats(this);
    vertx.setPeriodic(cfg.sweepIntervalMs(), t -> sweep(System.currentTimeMillis()));
    vertx.setPeriodic(cfg.presenceRefreshMs(), t -> refreshPresence());
    // the first check at a random point of the period: loops and gateways started together do not read in step
    vertx.setPeriodic(java.util.concurrent.ThreadLocalRandom.current().nextLong(cfg.tailCheckMs()) + 1, cfg.tailCheckMs(),
        t -> hub.checkTails(this::heads));
  }

  /**
   * A tail check of the channels that stay quiet over the next second or so, besides the periodic one: the cluster
   * was split and a member came back, and publications may have been routed nowhere while it was apart, also on
   * channels that were busy until then (see ChannelHub#checkQuietTails). Requests that come together are coalesced;
   * one check runs at a time per loop, and one more may wait for it. On this loop.
   */
  public void checkTailsSoon() {
    if (tailCheckSoon) return;
    tailCheckSoon = true;
    int mark = hub.markSync();
    vertx.setTimer(500 + java.util.concurrent.ThreadLocalRandom.current().nextLong(1000), t -> {
      tailCheckSoon = false;
      checkQuietTails(mark);
    });
  }

  private void checkQuietTails(int mark) {
    if (quietCheckRunning) {
      quietCheckAgain = mark;
      return;
    }
    quietCheckRunning = true;
    hub.checkQuietTails(this::heads, mark, () -> {
      quietCheckRunning = false;
      int again = quietCheckAgain;
      quietCheckAgain = 0;
      if (again > 0) checkQuietTails(again);
    });
  }

  /**
   * The store's head (offset, epoch) of each channel: one store.heads request (a store of an older version, which
   * has no such address, is asked with store.position without recovery, as before).
   */
  private Future<JsonObject> heads(java.util.List<String> channels) {
    return this.<JsonObject>request(Addresses.STORE_HEADS, new JsonObject().put("channels", new JsonArray(new ArrayList<>(channels))),
        requestTimeout).map(m -> m.body()).recover(t -> {
          if (!(t instanceof io.vertx.core.eventbus.ReplyException r)
              || r.failureType() != io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS) {
            return Future.failedFuture(t);
          }
          JsonArray q = new JsonArray();
          for (String c : channels) q.add(new JsonObject().put("channel", c));
          return this.<JsonObject>request(Addresses.STORE_POSITION, new JsonObject().put("channels", q), requestTimeout)
              .map(m -> m.body());
        });
  }

  /** True while draining or fenced: new sessions are refused and held requests answered "go elsewhere". */
  public boolean draining() {
    return draining || fenced;
  }

  /**
   * The cluster fence (see {@link io.switchboard.common.Addresses#GATEWAY_FENCE}): this JVM may have been dropped by
   * the cluster, so its sessions would get nothing published elsewhere. Up: like draining, every client is told to
   * reconnect (elsewhere: this node refuses new sessions until the fence lifts) and recovers from its positions.
   */
  public void fence(boolean up, String why) {
    if (up == fenced) return;
    fenced = up;
    if (up) each(s -> s.disconnect(Disconnect.DRAINING, "node rejoining its cluster (" + why + "): reconnect elsewhere"));
  }

  DeliveryOptions timeout() {
    return requestTimeout;
  }

  /** A WebSocket accepted on this loop as a transport with the configured bounds. */
  public WebSocketTransport webSocket(ServerWebSocket ws) {
    return new WebSocketTransport(ws, flusher, cfg.maxQueueBytes(), cfg.maxFrameBytes());
  }

  /** A new session on this loop. */
  public void register(Session s) {
    sessions.put(s.id, s);
    metrics.connections.incrementAndGet();
  }

  /** Fan-out entry point, on this loop. */
  public void deliver(Publication p) {
    meters.sent(p, hub.deliver(p));
  }

  /**
   * The store's publications on {@code channel} after a position (for the hub's backfill). Admitted like the
   * subscribes' reads: after a split heals, the tail checks may start a backfill on every quiet channel of the loop
   * at once, and the store sees at most {@link io.switchboard.common.Defaults#STORE_READS_IN_FLIGHT} of this loop's reads at a time
   * (the channel's later publications wait in the hub meanwhile, in order, as during any backfill).
   */
  private Future<JsonObject> storedAfter(String channel, long offset, String epoch) {
    JsonObject q = new JsonObject().put("channel", channel).put("recover", new JsonObject().put("offset", offset).put("epoch", epoch));
    return storeReads.admitted(() -> this.<JsonObject>request(Addresses.STORE_POSITION,
            new JsonObject().put("channels", new JsonArray().add(q)), requestTimeout)
        .compose(m -> complete(m.body().getJsonArray("channels").getJsonObject(0))));
  }

  /**
   * A request over the event bus; round trips to the store and the presence service are timed per address
   * ({@code switchboard_store_request_duration_seconds}, {@code switchboard_presence_request_duration_seconds}).
   */
  public <T> Future<io.vertx.core.eventbus.Message<T>> request(String address, Object body, DeliveryOptions options) {
    io.micrometer.core.instrument.Timer timer = metrics.busTimer(address);
    if (timer == null) return bus.request(address, body, options);
    long start = System.nanoTime();
    return bus.<T>request(address, body, options).onComplete(ar -> timer.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS));
  }

  /**
   * The store's publications on {@code channel} stored at or after {@code sinceMillis}, up to its head, in offset
   * order (for the hub's first use of a lazy personal channel): one history page and, when it was cut, the rest.
   */
  private Future<JsonObject> storedSince(String channel, long sinceMillis) {
    JsonObject q = new JsonObject().put("channel", channel).put("sinceTime", sinceMillis).put("limit", cfg.maxHistoryLimit());
    return storeReads.admitted(() -> this.<JsonObject>request(Addresses.STORE_HISTORY, q, requestTimeout).compose(m -> {
      JsonObject page = m.body();
      if (!page.getBoolean("more", false) || page.getJsonObject("next") == null) return Future.succeededFuture(page);
      JsonArray pubs = page.getJsonArray("publications", new JsonArray());
      page.put("publications", pubs);
      return readRest(channel, page.getJsonObject("next"), page.getLong("offset", 0L), pubs).map(v -> page);
    }));
  }

  /**
   * A recovery entry of {@code store.position} made whole: when the store cut it by bytes ({@code more}), the rest
   * up to the channel's head is read page by page with {@code store.history} and appended, in order.
   */
  public Future<JsonObject> complete(JsonObject entry) {
    if (!entry.getBoolean("more", false) || entry.getJsonObject("next") == null) return Future.succeededFuture(entry);
    JsonArray pubs = entry.getJsonArray("publications", new JsonArray());
    entry.put("publications", pubs);
    return readRest(entry.getString("channel"), entry.getJsonObject("next"), entry.getLong("offset", 0L), pubs).map(v -> {
      entry.remove("more");
      entry.remove("next");
      return entry;
    });
  }

  private Future<Void> readRest(String channel, JsonObject since, long head, JsonArray into) {
    if (since.getLong("offset", 0L) >= head) return Future.succeededFuture();
    JsonObject q = new JsonObject().put("channel", channel).put("since", since).put("limit", cfg.maxHistoryLimit());
    return this.<JsonObject>request(Addresses.STORE_HISTORY, q, requestTimeout).compose(m -> {
      JsonObject page = m.body();
      JsonArray got = page.getJsonArray("publications", new JsonArray());
      long last = since.getLong("offset", 0L);
      for (Object o : got) {
        JsonObject p = (JsonObject) o;
        if (p.getLong("offset", 0L) > head) return Future.succeededFuture();
        into.add(p);
        last = p.getLong("offset", last);
      }
      if (!page.getBoolean("more", false) || got.isEmpty()) return Future.succeededFuture();
      return readRest(channel, new JsonObject().put("offset", last).put("epoch", since.getString("epoch")), head, into);
    });
  }

  /**
   * Verifies a token for a session of this loop and takes its subject's connection slot; the session becomes
   * CONNECTED. Fails with the typed error the dialect reports (and maps to its close code).
   */
  public Future<Claims> authenticate(Session s, String token) {
    s.connecting();
    return admit(s, verifier.verify(token));
  }

  /**
   * Like {@link #authenticate} for a connection without a token: the app backend's connect proxy names the
   * identity. Fails with {@code unauthorized} when no connect proxy is configured.
   */
  public Future<Claims> authenticateByBackend(Session s) {
    s.connecting();
    Future<Claims> claims = backend.connect(s);
    if (claims == null) claims = Future.failedFuture(new io.switchboard.common.ServiceError(io.switchboard.common.ErrorCode.UNAUTHORIZED, "token is required"));
    return admit(s, claims);
  }

  private Future<Claims> admit(Session s, Future<Claims> verified) {
    return verified.compose(claims -> {
      if (s.closing()) return Future.failedFuture(new io.switchboard.common.ServiceError(io.switchboard.common.ErrorCode.UNAVAILABLE, "closed"));
      if (!subjectLimits.acquire(claims.subject())) {
        return Future.failedFuture(new io.switchboard.common.ServiceError(io.switchboard.common.ErrorCode.LIMIT_EXCEEDED,
            "too many connections for subject " + claims.subject()));
      }
      if (!subjectLimits.acquireApp(s.app)) {
        subjectLimits.release(claims.subject());
        return Future.failedFuture(new io.switchboard.common.ServiceError(io.switchboard.common.ErrorCode.LIMIT_EXCEEDED,
            "app " + s.app.id() + " is over its connection quota (" + s.app.maxConnections() + ")"));
      }
      s.connected(claims);
      return Future.succeededFuture(claims);
    }).onFailure(t -> s.notConnected());
  }

  /** Called once per session when its transport closed, whoever closed it. */
  void closed(Session s) {
    if (sessions.remove(s.id) != null) metrics.connections.decrementAndGet();
    if (s.claims() != null) {
      metrics.clientDown(s);
      subjectLimits.release(s.subject());
      subjectLimits.releaseApp(s.app);
    }
    subscriptions.dropAll(s);
    s.protocol().closed(s);
  }

  /** Housekeeping for every session of this loop: connect timeout, liveness, token expiry. */
  private void sweep(long now) {
    long queuedSum = 0, queuedMax = 0;
    for (Session s : new ArrayList<>(sessions.values())) {
      long queued = s.transport.queuedBytes();
      queuedSum += queued;
      queuedMax = Math.max(queuedMax, queued);
      if (s.closing()) {
        s.forceCloseIfLingering(now);
        continue;
      }
      if (!s.connected()) {
        if (s.state() == Session.State.OPEN && now - s.openedAt >= cfg.connectTimeoutMs()) {
          s.disconnect(Disconnect.CONNECT_TIMEOUT, "connect timeout");
        }
        continue;
      }
      if (s.claims().expiredAt(now - s.protocol().expiryGraceMs())) {
        s.disconnect(Disconnect.TOKEN_EXPIRED, "token expired");
        continue;
      }
      if (s.pingSentAt > 0) {
        if (now - s.pingSentAt >= cfg.pongTimeoutMs()) s.disconnect(Disconnect.NO_PONG, "no pong");
      } else if (now >= s.nextPingAt) {
        s.pingSentAt = now;
        s.protocol().ping(s);
      }
    }
    meters.queues(queuedSum, queuedMax);
    verifier.dropExpired(now / 1000);
  }

  /** One message keeps every presence member of this event loop alive. */
  private void refreshPresence() {
    JsonArray clients = new JsonArray();
    for (Session s : sessions.values()) {
      if (!s.closing() && s.hasPresence()) clients.add(s.id);
    }
    if (!clients.isEmpty()) bus.send(Addresses.PRESENCE_REFRESH, new JsonObject().put("node", node).put("clients", clients));
  }

  /** A revocation from the auth-service: matching sessions are closed. */
  public void revoked(JsonObject r) {
    String subject = r.getString("subject");
    String tokenId = r.getString("tokenId");
    if (subject != null) verifier.revokeSubject(subject, r.getLong("revokedAt", System.currentTimeMillis() / 1000));
    if (tokenId != null) verifier.revokeToken(tokenId, r.getLong("exp", Long.MAX_VALUE / 2));
    each(s -> {
      if (s.claims() != null && verifier.revoked(s.claims())) s.disconnect(Disconnect.FORBIDDEN, "token revoked");
    });
  }

  /**
   * {@code {subject?, connection?, app?, reason?, by?}}: the matching sessions are closed (terminated) — the
   * subject's sessions in the app (the default app unless named), the one connection, or the subject's session
   * with that id when both are given. Each close is logged with who asked ({@code by}: the admin dashboard's
   * session, the Pusher HTTP API).
   */
  public void terminate(JsonObject t) {
    String subject = t.getString("subject");
    String connection = t.getString("connection");
    String app = t.getString("app", subject != null ? App.DEFAULT_ID : null);
    String reason = t.getString("reason", "connections terminated");
    if (subject == null && connection == null) return;
    // held requests are not sessions and have no connection id: a subject's are ended (in its app) by their holder
    if (subject != null && connection == null) for (PollHolder h : held) h.terminate(app, subject, reason);
    each(s -> {
      if (connection != null && !connection.equals(s.id)) return;
      if (subject != null && !subject.equals(s.subject())) return;
      if (app != null && !app.equals(s.app.id())) return;
      LOG.log(System.Logger.Level.INFO, "session terminated: " + reason, io.switchboard.common.LogFields.of(
          io.switchboard.common.LogFields.CONNECTION, s.id, io.switchboard.common.LogFields.SUBJECT, s.subject(),
          "app", s.app.id(), "by", t.getString("by")));
      s.disconnect(Disconnect.TERMINATED, reason);
    });
  }

  /** Requests held on this loop that are not sessions (the HTTP long-poll hub): {@link #terminate} reaches them too. */
  public interface PollHolder {
    /** Ends the subject's held requests in the app with the TERMINATED disconnect. */
    void terminate(String appId, String subject, String reason);
  }

  private final List<PollHolder> held = new ArrayList<>(1);

  /** Registers a holder of requests that {@link #terminate} must reach. */
  public void holdsRequests(PollHolder h) {
    held.add(h);
  }

  /** Runs an action for every session of this loop (a copy: the action may close sessions). */
  public void each(Consumer<Session> action) {
    for (Session s : new ArrayList<>(sessions.values())) action.accept(s);
  }

  public int sessionCount() {
    return sessions.size();
  }

  /**
   * Drain (SIGTERM, undeploy): refuse new sessions, tell every client to reconnect elsewhere, let their queues flush
   * while they close. Bounded by {@code maxMs}.
   */
  public Future<Void> drain(long maxMs) {
    draining = true;
    each(s -> s.disconnect(Disconnect.DRAINING, "node draining"));
    Promise<Void> drained = Promise.promise();
    long deadline = System.currentTimeMillis() + maxMs;
    vertx.setPeriodic(20, t -> {
      if (sessions.isEmpty() || System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(t);
        drained.tryComplete();
      }
    });
    return drained.future();
  }

  /** Sessions of this loop, for operations that look them up (tests, admin). */
  public List<Session> sessions() {
    return List.copyOf(sessions.values());
  }
}
