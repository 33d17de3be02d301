package io.switchboard.launcher;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.common.Addresses;
import io.switchboard.common.Ids;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.micrometer.backends.BackendRegistries;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps a JVM that may have fallen out of the cluster from serving as if it had not (cluster mode only).
 *
 * <p>A JVM paused longer than Hazelcast's heartbeat timeout (a long GC, a stopped VM, SIGSTOP) is removed by the
 * other members. When it runs again it is an island: its subscriptions get nothing from the other gateways, yet its
 * sockets are open and its own health said ready. Hazelcast's split-brain merge brings it back seconds to a minute
 * later, and the routes to it take longer still. So the JVM fences itself the moment it notices the pause:
 * {@code /health/ready} fails, and unless the cluster answers its probe within {@link #EVICT_AFTER_MS} its gateway
 * tells every client to reconnect (they recover from their positions elsewhere, nothing lost) and refuses new ones,
 * as when draining.
 *
 * <p>The fence lifts on evidence, not on a timer: every second the JVM publishes a probe and every other member
 * answers at this JVM's own address. An answer arrives only once the cluster routes messages here again (while
 * the others count this JVM as gone, its registrations are not theirs, and the answer has nowhere to go). The fence
 * lifts when the members that answered, with this JVM, are a majority of the membership it saw before the pause:
 * JVMs that stood still together (one stopped VM) answer each other, but are not the cluster. A pause that did not
 * cost the membership is answered in milliseconds, and then the clients stay. Fencing on Hazelcast's MERGING event was
 * tried and removed (a member that had not stood still got it as well and stayed fenced). Fenced longer than
 * {@code cluster.fenceMaxMs} (e.g. a frozen master that no merge brings back) also fails {@code /health/live}, so an
 * orchestrator restarts the JVM.
 *
 * <p>The pause is seen by a daemon thread that sleeps 200 ms at a time: a monotonic (or wall) clock that moved much
 * further than that while it slept means the whole process stood still (busy event loops do not stop it). That
 * thread also keeps the membership as it was before a pause.
 */
final class ClusterFence extends VerticleBase {
  private static final System.Logger LOG = System.getLogger("io.switchboard.launcher.ClusterFence");
  private static final long TICK_MS = 200;
  private static final long PROBE_EVERY_MS = 1_000;
  /**
   * How long the probes may take before the gateway's clients are sent away. A pause that did not cost the
   * membership is answered in milliseconds (the clients, whose messages were only delayed, stay); an island never is.
   */
  static final long EVICT_AFTER_MS = 2_000;

  private final long fenceAfterPauseMs;
  private final long fenceMaxMs;
  private String node;
  private ClusterManager cluster;
  private Thread watcher;
  private volatile boolean running = true;
  /** The members as the watcher last saw them while not fenced: the membership a lift must find a majority of. */
  private volatile List<String> members = List.of();
  /** Set by the watcher the moment it sees the pause (readiness fails at once), cleared on the context at lift. */
  private volatile long fencedSinceNanos = -1;
  // the fields below are only touched on this verticle's context
  private boolean fenced;
  private List<String> membersBefore = List.of();
  private final Set<String> answered = new HashSet<>();
  private String nonce;
  private long probeTimer = -1;
  private long evictTimer = -1;
  /** The gateway was told to send its clients away (published GATEWAY_FENCE fenced:true). */
  private boolean evicted;
  private boolean stuckLogged;
  private Counter fences;
  private Counter evictions;

  ClusterFence(JsonObject cluster) {
    this.fenceAfterPauseMs = cluster.getLong("fenceAfterPauseMs");
    this.fenceMaxMs = cluster.getLong("fenceMaxMs");
  }

  @Override
  public Future<?> start() {
    cluster = ((VertxInternal) vertx).clusterManager();
    node = cluster.getNodeId();
    members = List.copyOf(cluster.getNodes());
    MeterRegistry registry = BackendRegistries.getNow(config().getJsonObject("operations").getString("registryName"));
    if (registry != null) {
      Gauge.builder("switchboard_cluster_fenced", this, f -> f.fencedSinceNanos < 0 ? 0 : 1)
          .description("1 while this JVM is fenced: it stood still long enough to have been dropped by the cluster").register(registry);
      fences = Counter.builder("switchboard_cluster_fences")
          .description("times this JVM fenced itself (it stood still at least cluster.fenceAfterPauseMs)").register(registry);
      evictions = Counter.builder("switchboard_cluster_evictions")
          .description("fences that sent this JVM's gateway clients elsewhere (no majority answered within 2 s)").register(registry);
    }
    Future<Void> probes = vertx.eventBus().<JsonObject>consumer(Addresses.CLUSTER_PROBE, m -> answerProbe(m.body())).completion();
    Future<Void> answers = vertx.eventBus().<JsonObject>consumer(Addresses.CLUSTER_PROBE_REPLY_PREFIX + node, m -> probeAnswered(m.body()))
        .completion();
    watcher = new Thread(this::watch, "switchboard-pause-watcher");
    watcher.setDaemon(true);
    watcher.start();
    return Future.all(probes, answers);
  }

  @Override
  public Future<?> stop() {
    running = false;
    if (watcher != null) watcher.interrupt();
    return Future.succeededFuture();
  }

  /** Milliseconds this JVM has been fenced, or -1 when it is not. */
  long fencedForMs() {
    long since = fencedSinceNanos;
    return since < 0 ? -1 : Math.max(0, (System.nanoTime() - since) / 1_000_000);
  }

  /** True when fenced so long that the JVM should be restarted (the liveness check fails). */
  boolean stuck() {
    return fencedForMs() > fenceMaxMs;
  }

  private void watch() {
    long lastNanos = System.nanoTime();
    long lastWall = System.currentTimeMillis();
    while (running) {
      try {
        Thread.sleep(TICK_MS);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      long wall = System.currentTimeMillis();
      // the wall clock too: the monotonic one may not advance while a VM is suspended (a step back counts as none)
      long pausedMs = Math.max((now - lastNanos) / 1_000_000, wall - lastWall) - TICK_MS;
      lastNanos = now;
      lastWall = wall;
      if (pausedMs >= fenceAfterPauseMs) {
        List<String> before = members;
        if (fencedSinceNanos < 0) fencedSinceNanos = now;
        context.runOnContext(v -> fence("stood still " + pausedMs + " ms", before, false));
      } else if (fencedSinceNanos < 0) {
        members = List.copyOf(cluster.getNodes());
      }
    }
  }

  /** Fences (or, when fenced already, starts the answers over: another pause or a merge happened meanwhile). */
  private void fence(String why, List<String> before, boolean evictNow) {
    if (!fenced && !evictNow && before.size() <= 1) {
      fencedSinceNanos = -1; // alone before the pause: there is no cluster to have been dropped from
      return;
    }
    nonce = Ids.hex(12);
    answered.clear();
    if (!fenced) {
      fenced = true;
      stuckLogged = false;
      membersBefore = before;
      if (fencedSinceNanos < 0) fencedSinceNanos = System.nanoTime();
      if (fences != null) fences.increment();
      LOG.log(System.Logger.Level.WARNING, "this JVM " + why + " (cluster.fenceAfterPauseMs " + fenceAfterPauseMs + "): the cluster may "
          + "have dropped it; fenced (not ready; clients sent elsewhere unless a majority of the " + before.size() + " members answers within "
          + EVICT_AFTER_MS + " ms) until the cluster routes to it again");
      probeTimer = vertx.setPeriodic(PROBE_EVERY_MS, t -> probe());
    }
    if (evictNow) {
      evict(why);
    } else if (!evicted) {
      if (evictTimer >= 0) vertx.cancelTimer(evictTimer);
      evictTimer = vertx.setTimer(EVICT_AFTER_MS, t -> {
        evictTimer = -1;
        if (fenced) evict(why);
      });
    }
    probe();
  }

  private void evict(String why) {
    if (evicted) return;
    evicted = true;
    if (evictTimer >= 0) vertx.cancelTimer(evictTimer);
    evictTimer = -1;
    if (evictions != null) evictions.increment();
    LOG.log(System.Logger.Level.WARNING, "no majority of the cluster answered: sending this gateway's clients elsewhere (" + why + ")");
    vertx.eventBus().publish(Addresses.GATEWAY_FENCE, new JsonObject().put("fenced", true).put("reason", why),
        new DeliveryOptions().setLocalOnly(true));
  }

  private void probe() {
    vertx.eventBus().publish(Addresses.CLUSTER_PROBE, new JsonObject().put("node", node).put("nonce", nonce));
    if (stuck() && !stuckLogged) {
      stuckLogged = true;
      LOG.log(System.Logger.Level.ERROR, "fenced for " + fencedForMs() + " ms without rejoining the cluster (cluster.fenceMaxMs "
          + fenceMaxMs + "): /health/live now fails so the JVM is restarted");
    }
  }

  private void answerProbe(JsonObject probe) {
    String from = probe.getString("node");
    if (from == null || from.equals(node)) return;
    vertx.eventBus().send(Addresses.CLUSTER_PROBE_REPLY_PREFIX + from, new JsonObject().put("nonce", probe.getString("nonce")).put("from", node));
  }

  /** Lifts the fence once the members that answered, with this JVM, are a majority of the membership before it. */
  private void probeAnswered(JsonObject answer) {
    String from = answer.getString("from");
    if (!fenced || from == null || from.equals(node) || nonce == null || !nonce.equals(answer.getString("nonce"))) return;
    answered.add(from);
    if ((answered.size() + 1) * 2 <= Math.max(1, membersBefore.size())) return;
    long tookMs = fencedForMs();
    fenced = false;
    fencedSinceNanos = -1;
    vertx.cancelTimer(probeTimer);
    probeTimer = -1;
    if (evictTimer >= 0) vertx.cancelTimer(evictTimer);
    evictTimer = -1;
    LOG.log(System.Logger.Level.INFO, "the cluster routes to this JVM again (" + answered + " answered, of " + membersBefore.size()
        + " members before); fence lifted after " + tookMs + " ms" + (evicted ? "" : ", its clients stayed"));
    if (evicted) {
      evicted = false;
      vertx.eventBus().publish(Addresses.GATEWAY_FENCE, new JsonObject().put("fenced", false), new DeliveryOptions().setLocalOnly(true));
    }
  }
}
