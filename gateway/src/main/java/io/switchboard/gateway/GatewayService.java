package io.switchboard.gateway;

import io.switchboard.common.Addresses;
import io.switchboard.common.Fanout;
import io.switchboard.common.Ids;
import io.switchboard.common.Publication;
import io.switchboard.common.PublicationCodec;
import io.switchboard.gateway.core.Apps;
import io.switchboard.gateway.core.ChannelHub;
import io.switchboard.gateway.core.GatewayConfig;
import io.switchboard.gateway.core.GatewayMetrics;
import io.switchboard.gateway.core.SubjectLimits;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The gateway service of one JVM (one "node"): loads the token keys and revocations from the auth-service over the
 * bus, then deploys one {@link GatewayVerticle} per event loop sharing the WebSocket port.
 *
 * <p>The node has ONE clustered address, {@code gateway.node.<nodeId>}; publications sent there are handed to every
 * event loop of the node. Which channels the node wants is announced through {@link Fanout} when the first local
 * subscriber of a channel arrives or the last one leaves (reference-counted across event loops here), so a
 * publication crosses the bus once per interested node, never once per subscriber.
 */
public final class GatewayService extends VerticleBase implements ChannelHub.Interest {
  private Apps apps;
  /** How long start-up waits for an auth-service to answer with its keys. */
  static final long KEYS_WAIT_MS = 30_000;

  private String node;
  private GatewayMetrics metrics;
  private Fanout fanout;
  private OccupancyReporter occupancy;
  private final List<GatewayVerticle> instances = new CopyOnWriteArrayList<>();
  /** channel → number of event loops of this node with subscribers; guarded by {@code this}. */
  private final Map<String, Integer> interest = new HashMap<>();
  /** A full announcement is due soon (sync requests coalesced); touched on this verticle's context only. */
  private boolean announceScheduled;
  /** The scheduled announcement is to be followed by the loops' tail check (a sync request after a split). */
  private boolean tailsAfterAnnounce;
  /** The cluster fence's reason while it is up (see #fence), else null. */
  private volatile String fencedFor;

  @Override
  public Future<?> start() {
    GatewayConfig cfg = GatewayConfig.from(config());
    apps = Apps.fromConfig(config());
    ClusterManager cluster = ((VertxInternal) vertx).clusterManager();
    // clustered: the cluster's node id, so Fanout drops our entries the moment we leave the cluster
    node = cluster != null ? cluster.getNodeId() : "local-" + Ids.hex(8);
    fanout = Fanout.of(vertx);
    PublicationCodec.register(vertx.eventBus());
    TokenVerifier verifier = TokenVerifier.fromConfig(config());
    SubjectLimits limits = new SubjectLimits(cfg.maxConnectionsPerSubject());
    GatewayMetrics metrics = new GatewayMetrics(config().getJsonObject("operations").getString("registryName"));
    metrics.channels(this::channelCount);
    this.metrics = metrics;
    MessageConsumer<JsonObject> keysChanged = vertx.eventBus().consumer(Addresses.AUTH_KEYS_CHANGED, m -> verifier.addKeys(m.body()));
    MessageConsumer<JsonObject> sync = vertx.eventBus().consumer(Addresses.GATEWAY_INTEREST_SYNC,
        m -> resync(m.body() != null && m.body().getBoolean("tails", false)));
    MessageConsumer<JsonObject> counts = vertx.eventBus().consumer(Addresses.gatewayCounts(node), m -> counts(m.body()).onComplete(ar -> {
      if (ar.succeeded()) m.reply(ar.result());
      else m.fail(500, String.valueOf(ar.cause()));
    }));
    // local only: the launcher's cluster fence (a pause may have cost this JVM its membership; see ClusterFence)
    MessageConsumer<JsonObject> fence = vertx.eventBus().localConsumer(Addresses.GATEWAY_FENCE, m -> fence(m.body()));
    vertx.setPeriodic(Fanout.ANNOUNCE_EVERY_MS, t -> announce());
    occupancy = new OccupancyReporter(vertx, node, apps, cfg.requestTimeoutMs());
    if (occupancy.active()) vertx.setPeriodic(0, cfg.presenceRefreshMs(), t -> occupancy.heartbeat());
    return Future.all(keysChanged.completion(), sync.completion(), counts.completion(), fence.completion())
        .compose(v -> loadKeys(verifier, System.currentTimeMillis() + KEYS_WAIT_MS))
        .compose(v -> vertx.eventBus().<JsonObject>request(Addresses.AUTH_REVOCATIONS, new JsonObject(),
                new DeliveryOptions().setSendTimeout(cfg.requestTimeoutMs()))
            .map(m -> {
              verifier.loadRevocations(m.body());
              return null;
            }))
        .compose(v -> vertx.deployVerticle(() -> {
              GatewayVerticle g = new GatewayVerticle(this, cfg, apps, verifier, limits, metrics, node, instances.isEmpty());
              instances.add(g);
              return g;
            },
            new DeploymentOptions().setInstances(cfg.instances()).setConfig(config())));
  }

  /** The node id this gateway announces (tests, operations). */
  public String node() {
    return node;
  }

  /**
   * {@code {channels:[…]}} or {@code {prefix}} → {@code {channels:{name: subscribers}}} over this node's loops; with
   * {@code published: true} also {@code published:{name: publications seen}} (the most any one loop saw: every loop
   * with subscribers receives each publication once, and the oldest subscription has seen the most). With
   * {@code top: n}, only the n channels with the most subscribers and the n with the most publications are answered
   * ({@code cut: true} when others were left out): a node with a personal channel per connection has as many
   * channels as connections.
   */
  private Future<JsonObject> counts(JsonObject q) {
    java.util.List<String> names = q.getJsonArray("channels") == null ? null
        : q.getJsonArray("channels").stream().map(String::valueOf).toList();
    String prefix = q.getString("prefix", "");
    boolean published = q.getBoolean("published", false);
    java.util.List<Future<Map<String, Integer>>> parts = new java.util.ArrayList<>();
    java.util.List<Future<Map<String, Long>>> seen = new java.util.ArrayList<>();
    for (GatewayVerticle g : instances) {
      parts.add(g.counts(names, prefix));
      if (published) seen.add(g.published(prefix));
    }
    return Future.all(Future.all(parts), Future.all(seen)).map(v -> {
      JsonObject out = new JsonObject();
      for (Future<Map<String, Integer>> f : parts) f.result().forEach((k, n) -> out.put(k, out.getInteger(k, 0) + n));
      JsonObject answer = new JsonObject().put("channels", out);
      if (published) {
        JsonObject pub = new JsonObject();
        for (Future<Map<String, Long>> f : seen) f.result().forEach((k, n) -> pub.put(k, Math.max(pub.getLong(k, 0L), n)));
        answer.put("published", pub);
      }
      int top = q.getInteger("top", 0);
      if (top > 0 && out.size() > top) keepTop(answer, top);
      return answer;
    });
  }

  /** Cuts a counts answer to the {@code top} channels by subscribers and the {@code top} by publications seen. */
  private static void keepTop(JsonObject answer, int top) {
    JsonObject subs = answer.getJsonObject("channels");
    JsonObject pub = answer.getJsonObject("published", new JsonObject());
    java.util.Set<String> keep = new java.util.HashSet<>();
    subs.fieldNames().stream().sorted((a, b) -> Integer.compare(subs.getInteger(b), subs.getInteger(a))).limit(top).forEach(keep::add);
    pub.fieldNames().stream().sorted((a, b) -> Long.compare(pub.getLong(b), pub.getLong(a))).limit(top).forEach(keep::add);
    JsonObject keptSubs = new JsonObject();
    JsonObject keptPub = new JsonObject();
    for (String k : keep) {
      if (subs.containsKey(k)) keptSubs.put(k, subs.getValue(k));
      if (pub.containsKey(k)) keptPub.put(k, pub.getValue(k));
    }
    answer.put("channels", keptSubs).put("cut", true);
    if (answer.containsKey("published")) answer.put("published", keptPub);
  }

  /**
   * Fence up: every loop sends its clients elsewhere and refuses new ones. Lifted: the cluster routes to this node
   * again; the full interest announcement replaces whatever the others kept of this node while it was away.
   */
  private void fence(JsonObject f) {
    boolean up = f.getBoolean("fenced", false);
    String why = f.getString("reason", "cluster fence");
    fencedFor = up ? why : null;
    for (GatewayVerticle g : instances) g.fence(up, why);
    if (!up) announce();
  }

  /** Why the node is fenced now, or null (read by event loops that start while it is). */
  String fencedFor() {
    return fencedFor;
  }

  /**
   * The node's fan-out address, consumed on the event loop of the FIRST gateway verticle (which calls this from its
   * start): a publication from the bus is delivered there at once and handed to the other loops — one thread
   * hand-off fewer than a consumer on this service's own loop, which would pass every publication on to all of them
   * (on a loaded 2-core machine each hand-off waits for a core). Per loop, publications keep the bus's order: the one
   * consumer delivers or queues them in arrival order.
   */
  MessageConsumer<Publication> consumeDeliveries(GatewayVerticle first) {
    return vertx.eventBus().consumer(Addresses.gatewayNode(node), m -> dispatch(first, m.body()));
  }

  /**
   * Every event loop with subscribers of the channel gets the publication: the consumer's loop first, in place; the
   * others by a hop onto their loop, only when they have the channel (a loop without it would drop it there: the
   * hop, a task and often a wake-up of that thread, bought nothing). See ChannelHub#has for why no publication a
   * loop's subscribers need is skipped.
   */
  private void dispatch(GatewayVerticle here, Publication p) {
    metrics.fanoutReceived.increment();
    here.deliverHere(p);
    for (GatewayVerticle g : instances) {
      if (g != here && g.has(p.channel())) g.deliverOnLoop(p);
    }
  }

  @Override
  public synchronized void channelAdded(String channel) {
    if (interest.merge(channel, 1, Integer::sum) == 1) {
      fanout.addInterest(node, channel);
      occupancy.changed(channel, true);
    }
  }

  @Override
  public synchronized void channelRemoved(String channel) {
    Integer left = interest.computeIfPresent(channel, (c, n) -> n <= 1 ? null : n - 1);
    if (left == null) {
      fanout.removeInterest(node, channel);
      occupancy.changed(channel, false);
    }
  }

  /** Channels with subscribers on this node (the metrics' switchboard_node_num_channels). */
  private synchronized int channelCount() {
    return interest.size();
  }

  /**
   * A sync request (a JVM started, or a member came back after a split): announce the full interest; after a split
   * ({@code tails}) every loop then checks the tails of its quiet channels, since publications may have been routed
   * nowhere while the cluster was apart. The check follows the announcement, so that what the announcement routes
   * here again is not mistaken for a lost tail.
   */
  private void resync(boolean tails) {
    tailsAfterAnnounce |= tails;
    announceSoon();
  }

  /**
   * A sync request: every JVM may ask at once (a member came back, several started), so the requests of the next
   * second or so (with jitter, so nodes do not answer in step) get one full announcement.
   */
  private void announceSoon() {
    if (announceScheduled) return;
    announceScheduled = true;
    vertx.setTimer(500 + java.util.concurrent.ThreadLocalRandom.current().nextLong(1000), t -> {
      announceScheduled = false;
      announce();
      if (tailsAfterAnnounce) {
        tailsAfterAnnounce = false;
        for (GatewayVerticle g : instances) g.checkTailsSoon();
      }
    });
  }

  private synchronized void announce() {
    fanout.announce(node, List.copyOf(interest.keySet()));
  }

  @Override
  public Future<?> stop() {
    // children (the event loops) drain first; then nothing should be routed here any more
    fanout.forgetNode(node);
    return Future.succeededFuture();
  }

  /** Asks for the keys until an auth-service answers or the deadline passes. */
  private Future<Void> loadKeys(TokenVerifier verifier, long deadline) {
    Promise<Void> done = Promise.promise();
    askKeys(verifier, deadline, done);
    return done.future();
  }

  private void askKeys(TokenVerifier verifier, long deadline, Promise<Void> done) {
    vertx.eventBus().<JsonObject>request(Addresses.AUTH_KEYS, new JsonObject(), new DeliveryOptions().setSendTimeout(2000))
        .onSuccess(m -> {
          verifier.addKeys(m.body());
          done.tryComplete();
        })
        .onFailure(t -> {
          if (verifier.hasKeys()) {
            done.tryComplete();
          } else if (System.currentTimeMillis() > deadline) {
            done.tryFail("gateway: no auth-service answered on '" + Addresses.AUTH_KEYS + "' within " + KEYS_WAIT_MS
                + " ms (" + t.getMessage() + "); start the auth service (--services auth) first");
          } else {
            vertx.setTimer(250, id -> askKeys(verifier, deadline, done));
          }
        });
  }
}
