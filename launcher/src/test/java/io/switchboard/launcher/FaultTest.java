package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.CloseCode;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.OnContext;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Faults with counts, on the Redis engine and a local cluster of real JVMs (auth+presence, store, two gateways), each
 * under steady publishing of {@code requiresAck} messages and with subscribers that recover:
 * <ol>
 *   <li>Redis stopped for 10 s and started again on the same port with its data (append-only file, fsync always);
 *   <li>the store JVM killed (-9) and started again;
 *   <li>a gateway JVM (a Hazelcast member) frozen with SIGSTOP for 20 s, then SIGCONT.
 * </ol>
 * Each fault checks: every publish is answered (ok, or {@code unavailable} — nothing else, never silence); every
 * ok-answered publication is stored exactly once at the offset it was answered with and is pending for a subject
 * that has not acked it; an {@code unavailable} one is counted as stored or not (a request in flight when Redis or
 * the store died can have been applied with its answer lost), and a retry with its {@code idempotencyKey} leaves
 * every publish stored exactly once; subscribers end with nothing lost, duplicated or reordered. A gateway kill -9 is
 * {@link ClusterTest#killingAGatewayLosesNothing}. Figures are printed as {@code [measure]} lines and reported in
 * docs/reliability.md. Runs once, in the default surefire execution (the engine is always Redis here).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultTest {
  /** One publish every 20 ms (50/s) round-robin over the fault's channels. */
  static final long PUBLISH_EVERY_MS = 20;
  /** The gateway's default {@code gateway.requestTimeoutMs}: no answer may take longer than this plus slack. */
  static final long REQUEST_TIMEOUT_MS = 5_000;
  /** cluster.fenceMaxMs of this cluster: fenced longer, a gateway's /health/live fails (then it is restarted). */
  static final long FENCE_MAX_MS = 30_000;

  private TestRedis redis;
  private ClusterProcesses cluster;
  private ClusterProcesses.Node core;
  private ClusterProcesses.Node store;
  private ClusterProcesses.Node gatewayA;
  private ClusterProcesses.Node gatewayB;
  private Vertx vertx;
  private OnContext on;
  private WebSocketClient ws;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void startCluster() throws Exception {
    redis = TestRedis.dedicatedPersistent();
    cluster = new ClusterProcesses(redis.url(), Map.of(
        "SWITCHBOARD_GATEWAY_PUBLISH_RATE_PER_SECOND", "100000",
        "SWITCHBOARD_GATEWAY_PUBLISH_BURST", "100000",
        "SWITCHBOARD_GATEWAY_REQUEST_TIMEOUT_MS", Long.toString(REQUEST_TIMEOUT_MS),
        // below the 5.5 s freeze of the short-freeze test (and well above this machine's usual stalls)
        "SWITCHBOARD_CLUSTER_FENCE_AFTER_PAUSE_MS", "4000",
        "SWITCHBOARD_CLUSTER_FENCE_MAX_MS", Long.toString(FENCE_MAX_MS)));
    // core first: the oldest member is the Hazelcast master, so the frozen gateway is never the master (a frozen
    // master is the case docs/reliability.md lists as not healing by itself)
    core = cluster.start("core", "auth,presence").get(0);
    List<ClusterProcesses.Node> nodes = cluster.start("store", "store", "gateway-a", "gateway", "gateway-b", "gateway");
    store = nodes.get(0);
    gatewayA = nodes.get(1);
    gatewayB = nodes.get(2);
    vertx = Vertx.vertx();
    on = new OnContext(vertx);
    ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(1 << 20).setMaxConnections(10_000));
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) cluster.close();
    if (vertx != null) Await.result(vertx.close());
    if (redis != null) redis.stop();
  }

  /** Redis stopped for 10 s under steady publishing, then started on the same port with its append-only file. */
  @Test
  @Order(1)
  void redisStoppedForTenSeconds() throws Exception {
    List<String> chans = channels("fault:redis", 5);
    List<TrackingClient> trackers = trackers("redis", chans, List.of(gatewayA.wsPort, gatewayB.wsPort), List.of(gatewayB.wsPort, gatewayA.wsPort));
    AckPublisher pub = new AckPublisher("redis", chans, gatewayA);
    Await.until("steady publishing", () -> pub.okCount() >= 50);

    long down = System.nanoTime();
    redis.stop();
    hold(Duration.ofSeconds(10), pub, () -> !pub.unavailable.isEmpty());
    int unavailableDuringOutage = pub.unavailable.size();
    long back = System.nanoTime();
    redis.start();
    long backUp = System.nanoTime();
    long firstOk = pub.firstOkAfter(backUp, Duration.ofSeconds(30));
    Await.until("gateways ready again", Duration.ofSeconds(30),
        () -> gatewayA.status("/health/ready") == 200 && gatewayB.status("/health/ready") == 200);
    long ready = System.nanoTime();
    int before = pub.okCount();
    Await.until("publishing after the outage", () -> pub.okCount() >= before + 50);
    pub.stop();

    Stored stored = verify(pub, chans);
    assertTrue(unavailableDuringOutage > 0, "publishes during the outage were refused: " + pub);
    Stored retried = retryUnavailable(pub, chans, stored);
    Counts subs = assertSubscribersRecovered(trackers, pub.heads());
    long recoveryMs = (firstOk - backUp) / 1_000_000;
    System.out.printf("[measure] fault=redis-stop-10s outage=%d ms sent=%d ok=%d unavailable=%d other=%d silent=0 stored=%d"
            + " okStoredOnce=%d unavailableStored=%d afterRetry=%d/%d pending=%d maxAnswerMs=%d maxUnavailableAnswerMs=%d"
            + " redisStartMs=%d firstOkAfterRedisBackMs=%d gatewaysReadyAfterMs=%d subscribers=%s%n",
        (back - down) / 1_000_000, pub.sent, stored.ok, stored.unavailable, pub.other.size(), stored.stored, stored.okStoredOnce,
        stored.unavailableButStored, retried.stored, pub.sent, stored.pending, pub.maxAnswerMs, pub.maxUnavailableAnswerMs,
        (backUp - back) / 1_000_000, recoveryMs, (ready - backUp) / 1_000_000, subs);
    // the contract is 2 s; the bound asserted is generous for a loaded 2-core CI machine
    assertTrue(recoveryMs < 10_000, "publishing resumed " + recoveryMs + " ms after Redis was back");
  }

  /** The only store JVM killed with -9 while publishing, then started again. */
  @Test
  @Order(2)
  void storeJvmKilledAndRestarted() throws Exception {
    List<String> chans = channels("fault:store", 5);
    List<TrackingClient> trackers = trackers("store", chans, List.of(gatewayA.wsPort, gatewayB.wsPort), List.of(gatewayB.wsPort, gatewayA.wsPort));
    AckPublisher pub = new AckPublisher("store", chans, gatewayA);
    Await.until("steady publishing", () -> pub.okCount() >= 50);

    long killed = System.nanoTime();
    store.kill();
    store.start();
    Await.until("a publish refused while the store is down", Duration.ofSeconds(30), () -> !pub.unavailable.isEmpty());
    store.awaitReady();
    long ready = System.nanoTime();
    long firstOk = pub.firstOkAfter(killed, Duration.ofSeconds(60));
    int before = pub.okCount();
    Await.until("publishing after the restart", () -> pub.okCount() >= before + 50);
    pub.stop();

    Stored stored = verify(pub, chans);
    Stored retried = retryUnavailable(pub, chans, stored);
    Counts subs = assertSubscribersRecovered(trackers, pub.heads());
    System.out.printf("[measure] fault=store-kill-9 sent=%d ok=%d unavailable=%d other=%d silent=0 stored=%d okStoredOnce=%d"
            + " unavailableStored=%d afterRetry=%d/%d pending=%d maxAnswerMs=%d maxUnavailableAnswerMs=%d killToReadyMs=%d"
            + " killToFirstOkMs=%d readyToFirstOkMs=%d subscribers=%s%n",
        pub.sent, stored.ok, stored.unavailable, pub.other.size(), stored.stored, stored.okStoredOnce, stored.unavailableButStored,
        retried.stored, pub.sent, stored.pending, pub.maxAnswerMs, pub.maxUnavailableAnswerMs, (ready - killed) / 1_000_000,
        (firstOk - killed) / 1_000_000, (firstOk - ready) / 1_000_000, subs);
  }

  /** A gateway JVM frozen with SIGSTOP for 20 s (its sockets stay open, nothing answers), then SIGCONT. */
  @Test
  @Order(3)
  void gatewayFrozenForTwentySeconds() throws Exception {
    List<String> chans = channels("fault:pause", 5);
    List<Integer> bFirst = List.of(gatewayB.wsPort, gatewayA.wsPort);
    // clients with a liveness check leave the frozen gateway for the other one
    List<TrackingClient> movers = trackers("pause-mover", chans, 3, bFirst, 500, 3_000);
    // clients with a patient check (30 s of silence, longer than the freeze) stay on it; when it resumes it notices
    // that it stood still longer than the cluster's heartbeat timeout, fences itself (see ClusterFence) and sends
    // them away with 4504: they recover on gateway-a long before their own check would have given up
    List<TrackingClient> stayers = trackers("pause-stayer", chans, 3, bFirst, 5_000, 30_000);
    List<TrackingClient> onA = trackers("pause-onA", chans, 2, List.of(gatewayA.wsPort, gatewayB.wsPort), 0, 0);
    AckPublisher pub = new AckPublisher("pause", chans, gatewayA);
    Await.until("steady publishing", () -> pub.okCount() >= 50);

    long paused = System.nanoTime();
    gatewayB.pause();
    try {
      hold(Duration.ofSeconds(20), pub, () -> movers.stream().allMatch(t -> t.silentFailovers > 0));
    } finally {
      gatewayB.resume();
    }
    long resumed = System.nanoTime();
    int okDuringPause = pub.okCount();
    Await.until("the resumed gateway fenced itself (switchboard_cluster_fences_total 1)", Duration.ofSeconds(30),
        () -> metric(gatewayB, "switchboard_cluster_fences_total") >= 1);
    Await.until(() -> "the resumed gateway's own subscribers were sent elsewhere and caught up: heads " + pub.heads() + ", stayers "
            + stayers + ", gateway-b evictions " + metric(gatewayB, "switchboard_cluster_evictions_total") + " fenced "
            + metric(gatewayB, "switchboard_cluster_fenced") + ", onA " + onA + ", publisher " + pub,
        Duration.ofSeconds(60), () -> stayers.stream().allMatch(t -> t.caughtUp(pub.heads())));
    long stayersCaughtUp = System.nanoTime();
    assertTrue(metric(gatewayB, "switchboard_cluster_evictions_total") >= 1, "no majority answered within 2 s: clients sent away");
    for (TrackingClient t : stayers) {
      synchronized (t) {
        // 4504 from the fence (or 4502 when the resumed loop's liveness sweep ran first): closed by the server
        assertTrue(t.closeCodes.stream().anyMatch(c -> c == CloseCode.DRAINING || c == CloseCode.NO_PONG), "the fenced gateway closed it: " + t);
        assertEquals(0, t.silentFailovers, "left because it was told to, not because of its own liveness check: " + t);
      }
    }
    // the fence lifts (ready again) only once the cluster routes messages to the gateway again; when that has not
    // happened within cluster.fenceMaxMs (30 s here; the routes to a merged member took 12 s to over 90 s on this
    // machine), its liveness check fails, and the test does what Kubernetes does then: restart it
    Await.until("gateway-b ready again, or its liveness failing past cluster.fenceMaxMs", Duration.ofSeconds(FENCE_MAX_MS / 1000 + 20),
        () -> gatewayB.status("/health/ready") == 200 || gatewayB.status("/health/live") == 503);
    boolean restarted = gatewayB.status("/health/ready") != 200;
    if (restarted) {
      assertTrue(metric(gatewayB, "switchboard_cluster_fenced") == 1, "not ready because still fenced");
      gatewayB.killAndRestart();
    }
    long ready = System.nanoTime();
    long healed = crossNodeDelivery(resumed);
    int before = pub.okCount();
    Await.until("publishing after the resume", () -> pub.okCount() >= before + 50);
    pub.stop();

    Stored stored = verify(pub, chans);
    Stored retried = retryUnavailable(pub, chans, stored);
    List<TrackingClient> all = new ArrayList<>(movers);
    all.addAll(stayers);
    all.addAll(onA);
    long longestMoverOutage = movers.stream().mapToLong(t -> t.longestOutageMs).max().orElse(0);
    Counts subs = assertSubscribersRecovered(all, pub.heads());
    for (TrackingClient t : movers) assertTrue(t.silentFailovers >= 1, "left the frozen gateway: " + t);
    System.out.printf("[measure] fault=gateway-sigstop-20s paused=%d ms sent=%d ok=%d okBeforeResume=%d unavailable=%d other=%d"
            + " silent=0 stored=%d okStoredOnce=%d afterRetry=%d/%d pending=%d maxAnswerMs=%d moversLongestOutageMs=%d resumeToReadyMs=%d"
            + " resumeToStayersCaughtUpMs=%d resumeToCrossNodeDeliveryMs=%d restartedByLiveness=%b subscribers=%s%n",
        (resumed - paused) / 1_000_000, pub.sent, stored.ok, okDuringPause, stored.unavailable, pub.other.size(), stored.stored,
        stored.okStoredOnce, retried.stored, pub.sent, stored.pending, pub.maxAnswerMs, longestMoverOutage, (ready - resumed) / 1_000_000,
        (stayersCaughtUp - resumed) / 1_000_000, (healed - resumed) / 1_000_000, restarted, subs);
    for (TrackingClient t : stayers) System.out.println("[measure] stayer " + t);
    for (TrackingClient t : movers) System.out.println("[measure] mover " + t);
  }

  /**
   * A gateway frozen for 5.5 s: long enough to fence itself (the threshold is 4 s in this cluster), too short for
   * the others to drop it (heartbeat timeout 15 s). The fence must lift at once — its probe is answered because the
   * cluster never stopped routing to it — not after a merge that never comes, and its clients, whose messages were
   * only delayed, stay where they are and lose nothing.
   */
  @Test
  @Order(4)
  void gatewayFrozenShorterThanTheHeartbeatTimeoutLiftsItsFenceAtOnce() throws Exception {
    List<String> chans = channels("fault:short", 3);
    List<TrackingClient> onB = trackers("short-onB", chans, 2, List.of(gatewayB.wsPort, gatewayA.wsPort), 0, 0);
    AckPublisher pub = new AckPublisher("short", chans, gatewayA);
    Await.until("steady publishing", () -> pub.okCount() >= 30);
    double fencesBefore = metric(gatewayB, "switchboard_cluster_fences_total");
    double evictionsBefore = metric(gatewayB, "switchboard_cluster_evictions_total");

    gatewayB.pause();
    try {
      hold(Duration.ofMillis(5_500), pub, () -> true);
    } finally {
      gatewayB.resume();
    }
    long resumed = System.nanoTime();
    Await.until("the resumed gateway fenced itself", Duration.ofSeconds(20),
        () -> metric(gatewayB, "switchboard_cluster_fences_total") > fencesBefore);
    Await.until("the fence lifted", Duration.ofSeconds(20), () -> metric(gatewayB, "switchboard_cluster_fenced") == 0);
    long lifted = System.nanoTime();
    gatewayB.awaitReady();
    int before = pub.okCount();
    Await.until("publishing after the resume", () -> pub.okCount() >= before + 30);
    pub.stop();
    Stored stored = verify(pub, chans);
    Counts subs = assertSubscribersRecovered(onB, pub.heads());
    for (TrackingClient t : onB) {
      synchronized (t) {
        assertTrue(!t.closeCodes.contains((int) CloseCode.DRAINING), "not sent away: the cluster answered the probe at once: " + t);
      }
    }
    assertEquals(evictionsBefore, metric(gatewayB, "switchboard_cluster_evictions_total"), "no eviction");
    assertEquals(0, subs.reconnects(), "its clients stayed connected: " + subs);
    long liftMs = (lifted - resumed) / 1_000_000;
    System.out.printf("[measure] fault=gateway-sigstop-5.5s sent=%d ok=%d stored=%d resumeToFenceLiftedMs=%d subscribers=%s%n",
        pub.sent, stored.ok, stored.stored, liftMs, subs);
    // a merge is checked for every 5 s and takes more: a lift this fast is the probe answered without one
    assertTrue(liftMs < 8_000, "the fence lifted " + liftMs + " ms after SIGCONT");
  }

  /**
   * The cluster healed: a publication made on either gateway reaches subscribers on both. Returns when it did first
   * (each round uses a fresh channel, so a round lost to a not-yet-healed bus does not hide a later success).
   */
  private long crossNodeDelivery(long since) throws Exception {
    String token = token("heal");
    try (WsClient onA = connect(gatewayA, token); WsClient onB = connect(gatewayB, token)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      for (int round = 0; ; round++) {
        String ch = "fault:heal" + round;
        onA.subscribe(ch);
        onB.subscribe(ch);
        onA.result("publish", new JsonObject().put("channel", ch).put("event", "from-a").put("data", round));
        onB.result("publish", new JsonObject().put("channel", ch).put("event", "from-b").put("data", round));
        try {
          for (WsClient c : List.of(onA, onB)) {
            c.take("from-a on " + ch, f -> ch.equals(f.getString("channel")) && "from-a".equals(f.getString("event")), Duration.ofSeconds(5));
            c.take("from-b on " + ch, f -> ch.equals(f.getString("channel")) && "from-b".equals(f.getString("event")), Duration.ofSeconds(5));
          }
          return System.nanoTime();
        } catch (AssertionError notYet) {
          if (System.nanoTime() > deadline) throw new AssertionError("the cluster did not heal within 60 s of SIGCONT", notYet);
        }
      }
    }
  }

  /** A counter or gauge of a node's Prometheus scrape (unlabelled), or -1 when absent. */
  private static double metric(ClusterProcesses.Node node, String name) {
    for (String line : node.body("/metrics").split("\n")) {
      if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).trim());
    }
    return -1;
  }

  /**
   * Holds a fault for {@code length} while watching it: no publish may go unanswered past the request timeout (plus
   * slack), and {@code felt} must become true (the fault is visible) before the hold ends.
   */
  private static void hold(Duration length, AckPublisher pub, BooleanSupplier felt) {
    long end = System.nanoTime() + length.toNanos();
    boolean seen = false;
    while (System.nanoTime() < end) {
      seen |= felt.getAsBoolean();
      long oldest = pub.oldestOutstandingMs();
      assertTrue(oldest < REQUEST_TIMEOUT_MS + 3_000, "a publish has had no answer for " + oldest + " ms");
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted");
      }
    }
    assertTrue(seen || felt.getAsBoolean(), "the fault was visible during the hold");
  }

  // ---- the publisher ----

  /**
   * One connection publishing {@code requiresAck} commands every {@link #PUBLISH_EVERY_MS}, round-robin over its
   * channels, each with its own {@code idempotencyKey} and its sequence number as data; it never waits for an answer
   * before the next publish, and sorts every answer: ok (with its offset), {@code unavailable}, anything else.
   */
  private final class AckPublisher {
    final String name;
    final List<String> channels;
    final Context context = vertx.getOrCreateContext();
    final Map<String, Promise<JsonObject>> waiting = new ConcurrentHashMap<>();
    final Map<Integer, Long> outstanding = new ConcurrentHashMap<>();
    final Map<Integer, JsonObject> ok = new ConcurrentHashMap<>();
    final Set<Integer> unavailable = ConcurrentHashMap.newKeySet();
    final Map<Integer, String> other = new ConcurrentHashMap<>();
    /** When each ok answer arrived (System.nanoTime), for "first ok after". */
    final ConcurrentSkipListMap<Long, Integer> okAt = new ConcurrentSkipListMap<>();
    volatile int sent;
    volatile long maxAnswerMs;
    volatile long maxUnavailableAnswerMs;
    volatile boolean closed;
    private WebSocket socket;
    private long timer = -1;
    private int nextRequest;

    AckPublisher(String name, List<String> channels, ClusterProcesses.Node gateway) throws Exception {
      this.name = name;
      this.channels = channels;
      String token = token(name + "-publisher");
      Promise<Void> connected = Promise.promise();
      context.runOnContext(v -> ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gateway.wsPort).setURI("/ws"))
          .compose(s -> {
            socket = s;
            s.textMessageHandler(this::onFrame);
            s.closeHandler(x -> closed = true);
            return request("connect", new JsonObject().put("token", token));
          })
          .onSuccess(r -> {
            if (r.containsKey("error")) {
              connected.fail(r.encode());
              return;
            }
            timer = vertx.setPeriodic(PUBLISH_EVERY_MS, t -> publishNext());
            connected.complete();
          })
          .onFailure(connected::fail));
      Await.result(connected.future());
    }

    private Future<JsonObject> request(String method, JsonObject params) {
      String id = "q" + nextRequest++;
      Promise<JsonObject> p = Promise.promise();
      waiting.put(id, p);
      socket.writeTextMessage(new JsonObject().put("type", "request").put("id", id).put("method", method).put("params", params).encode());
      return p.future();
    }

    private void onFrame(String text) {
      JsonObject f = new JsonObject(text);
      if (!"response".equals(f.getString("type"))) return;
      Promise<JsonObject> p = waiting.remove(f.getString("id"));
      if (p != null) p.complete(f);
    }

    JsonObject params(int seq) {
      return new JsonObject().put("channel", channels.get(seq % channels.size())).put("event", "cmd")
          .put("data", new JsonObject().put("seq", seq)).put("requiresAck", true).put("idempotencyKey", name + "-" + seq);
    }

    private void publishNext() {
      int seq = sent;
      long t0 = System.nanoTime();
      outstanding.put(seq, t0);
      sent = seq + 1;
      request("publish", params(seq)).onSuccess(r -> {
        long now = System.nanoTime();
        long ms = (now - t0) / 1_000_000;
        maxAnswerMs = Math.max(maxAnswerMs, ms);
        if (r.containsKey("result")) {
          ok.put(seq, r.getJsonObject("result"));
          okAt.put(now + (seq % 1000), seq); // distinct keys for answers in the same nanosecond
        } else if ("unavailable".equals(r.getJsonObject("error").getString("code"))) {
          unavailable.add(seq);
          maxUnavailableAnswerMs = Math.max(maxUnavailableAnswerMs, ms);
        } else {
          other.put(seq, r.encode());
        }
        outstanding.remove(seq);
      });
    }

    /** A publish sent again with the same idempotencyKey, from the test thread. */
    JsonObject republish(int seq) {
      Promise<JsonObject> p = Promise.promise();
      context.runOnContext(v -> request("publish", params(seq)).onComplete(p));
      return Await.result(p.future());
    }

    int okCount() {
      return ok.size();
    }

    long oldestOutstandingMs() {
      long now = System.nanoTime();
      return outstanding.values().stream().mapToLong(t -> (now - t) / 1_000_000).max().orElse(0);
    }

    /** When the first ok answer arrived at or after {@code t}, waiting for it up to {@code timeout}. */
    long firstOkAfter(long t, Duration timeout) {
      Await.until(name + ": a publish answered ok", timeout, () -> okAt.ceilingKey(t) != null);
      return okAt.ceilingKey(t);
    }

    /** The highest ok-answered offset per channel so far. */
    Map<String, Long> heads() {
      Map<String, Long> out = new HashMap<>();
      ok.forEach((seq, r) -> out.merge(channels.get(seq % channels.size()), r.getLong("offset"), Math::max));
      return out;
    }

    /** Stops publishing and waits until every publish has its answer: none may stay silent. */
    void stop() {
      context.runOnContext(v -> vertx.cancelTimer(timer));
      Await.until(name + ": every publish answered (still waiting: " + outstanding.keySet() + ")",
          Duration.ofMillis(REQUEST_TIMEOUT_MS + 10_000), () -> sent > 0 && outstanding.isEmpty() && waiting.isEmpty());
      assertTrue(!closed, name + ": the publisher's connection stayed open");
      assertEquals(Map.of(), other, name + ": every answer is ok or unavailable");
    }

    @Override
    public String toString() {
      return name + "{sent=" + sent + ", ok=" + ok.size() + ", unavailable=" + unavailable.size() + ", other=" + other.size() + "}";
    }
  }

  // ---- checking what was stored ----

  /** What the store holds for one publisher's channels, against what the publisher was told. */
  record Stored(int ok, int unavailable, int stored, int okStoredOnce, int unavailableButStored, int pending) {}

  /**
   * Reads every channel's whole history and the pending list of a subject that never acks, and checks: offsets run
   * 1..head with no gap, each publication's seq appears once, every ok answer is stored at the offset it named, and
   * pending holds exactly the stored publications.
   */
  private Stored verify(AckPublisher pub, List<String> chans) throws Exception {
    Map<Integer, Integer> copies = new HashMap<>();
    Map<Integer, Long> offsetOf = new HashMap<>();
    int pendingTotal = 0;
    try (WsClient checker = connect(gatewayA, token(pub.name + "-checker"))) {
      for (String ch : chans) {
        String epoch = pub.ok.entrySet().stream().filter(e -> chans.get(e.getKey() % chans.size()).equals(ch))
            .map(e -> e.getValue().getString("epoch")).findFirst().orElseThrow();
        List<JsonObject> history = pages(checker, "history", ch, epoch);
        for (int i = 0; i < history.size(); i++) {
          JsonObject p = history.get(i);
          assertEquals(i + 1, p.getLong("offset"), ch + ": offsets run 1..head with no gap");
          int seq = p.getJsonObject("data").getInteger("seq");
          copies.merge(seq, 1, Integer::sum);
          offsetOf.put(seq, p.getLong("offset"));
          assertEquals(true, p.getBoolean("requiresAck"), p.encode());
        }
        List<JsonObject> pending = pages(checker, "pending", ch, epoch);
        List<String> historyIds = history.stream().map(p -> p.getString("id")).toList();
        List<String> pendingIds = pending.stream().map(p -> p.getString("id")).toList();
        assertEquals(historyIds, pendingIds, ch + ": every stored command is pending, once, in order, for a subject that never acked");
        pendingTotal += pending.size();
      }
    }
    int okOnce = 0;
    for (Map.Entry<Integer, JsonObject> e : pub.ok.entrySet()) {
      assertEquals(1, copies.getOrDefault(e.getKey(), 0), "ok-answered publish " + e.getKey() + " stored exactly once");
      assertEquals(e.getValue().getLong("offset"), offsetOf.get(e.getKey()), "stored at the offset its answer named");
      okOnce++;
    }
    for (Map.Entry<Integer, Integer> e : copies.entrySet()) assertEquals(1, e.getValue(), "seq " + e.getKey() + " stored once");
    int unavailableStored = (int) pub.unavailable.stream().filter(copies::containsKey).count();
    int stored = copies.values().stream().mapToInt(Integer::intValue).sum();
    return new Stored(pub.ok.size(), pub.unavailable.size(), stored, okOnce, unavailableStored, pendingTotal);
  }

  /** Every page of {@code history} (or {@code pending}) of a channel from its start, following {@code more}/{@code next}. */
  private static List<JsonObject> pages(WsClient c, String method, String ch, String epoch) {
    List<JsonObject> out = new ArrayList<>();
    JsonObject since = new JsonObject().put("offset", 0).put("epoch", epoch);
    while (true) {
      JsonObject params = new JsonObject().put("channel", ch).put("since", since);
      if (method.equals("history")) params.put("limit", 1000);
      JsonObject r = c.result(method, params);
      for (Object o : r.getJsonArray("publications")) out.add((JsonObject) o);
      if (!r.getBoolean("more", false)) return out;
      since = r.getJsonObject("next");
    }
  }

  /**
   * What a careful client does with {@code unavailable}: publish again with the same idempotencyKey once the service
   * is back. Afterwards every publish the client ever made is stored exactly once. Returns what is stored then.
   */
  private Stored retryUnavailable(AckPublisher pub, List<String> chans, Stored before) throws Exception {
    List<Integer> retry = new ArrayList<>(pub.unavailable);
    retry.sort(Integer::compare);
    for (int seq : retry) {
      JsonObject r = pub.republish(seq);
      assertTrue(r.containsKey("result"), "retry of " + seq + " accepted: " + r.encode());
      pub.ok.put(seq, r.getJsonObject("result"));
    }
    Stored after = verify(pub, chans);
    assertEquals(pub.sent, after.stored, "after the retries every publish is stored once (before: " + before + ")");
    return after;
  }

  // ---- subscribers ----

  /** Counts over all subscribers of a fault. */
  record Counts(int clients, int delivered, int lost, int duplicated, int reordered, int unrecovered, int reconnects) {
    @Override
    public String toString() {
      return "{clients=" + clients + ", delivered=" + delivered + ", lost=" + lost + ", duplicated=" + duplicated
          + ", reordered=" + reordered + ", unrecovered=" + unrecovered + ", reconnects=" + reconnects + "}";
    }
  }

  private static Counts assertSubscribersRecovered(List<TrackingClient> trackers, Map<String, Long> finals) {
    for (TrackingClient t : trackers) Await.until(t.name + " caught up: " + t, Duration.ofSeconds(120), () -> t.caughtUp(finals));
    for (TrackingClient t : trackers) t.stop();
    int delivered = 0, lost = 0, dup = 0, reordered = 0, unrecovered = 0, reconnects = 0;
    for (TrackingClient t : trackers) {
      synchronized (t) {
        delivered += t.delivered;
        lost += t.lost;
        dup += t.duplicated - t.outOfOrder;
        reordered += t.outOfOrder;
        unrecovered += t.unrecovered;
        reconnects += t.reconnects;
      }
    }
    Counts c = new Counts(trackers.size(), delivered, lost, dup, reordered, unrecovered, reconnects);
    for (TrackingClient t : trackers) {
      synchronized (t) {
        assertEquals(0, t.lost, "lost: " + t);
        assertEquals(0, t.duplicated, "duplicated or out of order: " + t);
        assertEquals(0, t.unrecovered, "unrecoverable positions: " + t);
      }
    }
    long expected = finals.values().stream().mapToLong(Long::longValue).sum();
    for (TrackingClient t : trackers) assertTrue(t.delivered > 0, "delivered: " + t);
    assertTrue(delivered > 0 && expected > 0, c.toString());
    return c;
  }

  /** Subscribers of all channels, half starting on each port list. */
  private List<TrackingClient> trackers(String prefix, List<String> chans, List<Integer> ports1, List<Integer> ports2) throws Exception {
    List<TrackingClient> out = new ArrayList<>(trackers(prefix + "-1-", chans, 2, ports1, 0, 0));
    out.addAll(trackers(prefix + "-2-", chans, 2, ports2, 0, 0));
    return out;
  }

  private List<TrackingClient> trackers(String prefix, List<String> chans, int n, List<Integer> ports, long heartbeatMs, long silentMs)
      throws Exception {
    List<TrackingClient> out = new ArrayList<>();
    String token = token(prefix + "subscriber");
    for (int i = 0; i < n; i++) {
      TrackingClient t = new TrackingClient(prefix + i, vertx, ws, token, chans, ports);
      if (heartbeatMs > 0) t.heartbeat(heartbeatMs, silentMs);
      // a fault may leave the gateway a client moves to briefly without a route to the store (docs/reliability.md,
      // "A member dropped without a pause"): the client retries as the protocol says; the count shows in its line
      t.retryUnavailable();
      t.start();
      out.add(t);
    }
    for (TrackingClient t : out) Await.until(t.name + " subscribed", t::subscribed);
    return out;
  }

  private static List<String> channels(String prefix, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(prefix + i);
    return out;
  }

  private String token(String subject) throws Exception {
    JsonObject body = new JsonObject().put("subject", subject).put("grants", TestServer.allGrants());
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + core.authPort + "/v1/tokens"))
        .header("x-api-key", ClusterProcesses.ADMIN_KEY).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body()).getString("token");
  }

  private WsClient connect(ClusterProcesses.Node gateway, String token) {
    io.vertx.core.http.ClientWebSocket socket = ws.webSocket();
    WsClient c = new WsClient(socket, on);
    on.await(() -> socket.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gateway.wsPort).setURI("/ws")));
    JsonObject r = c.request("connect", new JsonObject().put("token", token));
    if (r.containsKey("error")) throw new AssertionError("connect failed: " + r.encode());
    return c;
  }
}
