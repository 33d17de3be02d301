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
import io.vertx.micrometer.backends.BackendRegistries;

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
 * the others count this JVM as gone, its registrations are not theirs, and the answer has nowhere to go). A pause
 * that did not cost the membership is answered at once. Fenced longer than {@code cluster.fenceMaxMs} (e.g. a
 * frozen master that no merge brings back) also fails {@code /health/live}, so an orchestrator restarts the JVM.
 *
 * <p>The pause is seen by a daemon thread that sleeps 200 ms at a time: a monotonic clock that moved much further
 * than that while it slept means the whole process stood still (event loops being busy does not stop it).
 */
final class ClusterFence extends VerticleBase {
  private static final System.Logger LOG = System.getLogger("io.switchboard.launcher.ClusterFence");
  private static final long TICK_MS = 200;
  private static final long PROBE_EVERY_MS = 1_000;
  /**
   * How long the first probe may take before the gateway's clients are sent away. A pause that did not cost the
   * membership is answered in milliseconds (the clients, whose messages were only delayed, stay); an island never is.
   */
  static final long EVICT_AFTER_MS = 2_000;

  private final long fenceAfterPauseMs;
  private final long fenceMaxMs;
  private String node;
  private Thread watcher;
  private volatile boolean running = true;
  // the fields below are only touched on this verticle's context
  private boolean fenced;
  private long fencedAt;
  private String nonce;
  private long probeTimer = -1;
  /** The gateway was told to send its clients away (published GATEWAY_FENCE fenced:true). */
  private boolean evicted;
  private Counter fences;
  /** Read from health checks (any thread). */
  private volatile long fencedSinceMs = -1;

  ClusterFence(JsonObject cluster) {
    this.fenceAfterPauseMs = cluster.getLong("fenceAfterPauseMs");
    this.fenceMaxMs = cluster.getLong("fenceMaxMs");
  }

  @Override
  public Future<?> start() {
    node = ((VertxInternal) vertx).clusterManager().getNodeId();
    MeterRegistry registry = BackendRegistries.getNow(config().getJsonObject("operations").getString("registryName"));
    if (registry != null) {
      Gauge.builder("switchboard_cluster_fenced", this, f -> f.fencedSinceMs < 0 ? 0 : 1)
          .description("1 while this JVM is fenced: it stood still long enough to have been dropped by the cluster").register(registry);
      fences = Counter.builder("switchboard_cluster_fences")
          .description("times this JVM fenced itself after a pause of at least cluster.fenceAfterPauseMs").register(registry);
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
    long since = fencedSinceMs;
    return since < 0 ? -1 : Math.max(0, System.currentTimeMillis() - since);
  }

  /** True when fenced so long that the JVM should be restarted (the liveness check fails). */
  boolean stuck() {
    return fencedForMs() > fenceMaxMs;
  }

  private void watch() {
    long last = System.nanoTime();
    while (running) {
      try {
        Thread.sleep(TICK_MS);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      long pausedMs = (now - last) / 1_000_000 - TICK_MS;
      last = now;
      if (pausedMs >= fenceAfterPauseMs) context.runOnContext(v -> fence(pausedMs));
    }
  }

  private void fence(long pausedMs) {
    nonce = Ids.hex(12);
    if (!fenced) {
      fenced = true;
      fencedAt = System.currentTimeMillis();
      fencedSinceMs = fencedAt;
      if (fences != null) fences.increment();
      LOG.log(System.Logger.Level.WARNING, "this JVM stood still for " + pausedMs + " ms (longer than cluster.fenceAfterPauseMs "
          + fenceAfterPauseMs + "): the cluster may have dropped it; fenced (not ready; clients sent elsewhere unless the cluster "
          + "answers within " + EVICT_AFTER_MS + " ms) until the cluster routes to it again");
      String reason = "paused " + pausedMs + " ms";
      vertx.setTimer(EVICT_AFTER_MS, t -> {
        if (!fenced || evicted) return;
        evicted = true;
        LOG.log(System.Logger.Level.WARNING, "no member answered within " + EVICT_AFTER_MS + " ms: sending this gateway's clients elsewhere");
        vertx.eventBus().publish(Addresses.GATEWAY_FENCE, new JsonObject().put("fenced", true).put("reason", reason),
            new DeliveryOptions().setLocalOnly(true));
      });
    }
    probe();
    if (probeTimer < 0) probeTimer = vertx.setPeriodic(PROBE_EVERY_MS, t -> probe());
  }

  private void probe() {
    vertx.eventBus().publish(Addresses.CLUSTER_PROBE, new JsonObject().put("node", node).put("nonce", nonce));
    if (stuck()) {
      LOG.log(System.Logger.Level.ERROR, "fenced for " + fencedForMs() + " ms without rejoining the cluster (cluster.fenceMaxMs "
          + fenceMaxMs + "): /health/live now fails so the JVM is restarted");
    }
  }

  private void answerProbe(JsonObject probe) {
    String from = probe.getString("node");
    if (from == null || from.equals(node)) return;
    vertx.eventBus().send(Addresses.CLUSTER_PROBE_REPLY_PREFIX + from, new JsonObject().put("nonce", probe.getString("nonce")).put("from", node));
  }

  private void probeAnswered(JsonObject answer) {
    if (!fenced || node.equals(answer.getString("from"))) return;
    if (nonce == null || !nonce.equals(answer.getString("nonce"))) return;
    fenced = false;
    fencedSinceMs = -1;
    vertx.cancelTimer(probeTimer);
    probeTimer = -1;
    LOG.log(System.Logger.Level.INFO, "the cluster routes to this JVM again (member " + answer.getString("from") + " answered); fence lifted after "
        + (System.currentTimeMillis() - fencedAt) + " ms" + (evicted ? "" : ", its clients stayed"));
    if (evicted) {
      evicted = false;
      vertx.eventBus().publish(Addresses.GATEWAY_FENCE, new JsonObject().put("fenced", false), new DeliveryOptions().setLocalOnly(true));
    }
  }
}
