package io.switchboard.common;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Routes publications to gateway nodes: one bus message per node that has subscribers for the channel, never one
 * per subscriber, and no clustered consumer per channel (each of those costs a cluster-wide registration).
 *
 * <p>Every JVM keeps a replica of the channel → interested-nodes index, fed by the gateways' announcements on
 * {@link Addresses#GATEWAY_INTEREST} (a change when a node's first subscriber of a channel arrives or its last one
 * leaves, and a full set every {@link #ANNOUNCE_EVERY_MS} and on request, which heals lost messages). Nodes that left
 * the cluster are dropped by asking the cluster manager for the live members.
 *
 * <p>Ordering invariant, in one JVM: a gateway registers its interest here (synchronously, in this shared replica)
 * before it asks the store for the channel's position, so a publication is either already counted in that position
 * or is routed to the gateway. Across JVMs the announcement may arrive later than the first publications; the
 * gateway's continuity check and its settle check after subscribe (see gateway ChannelHub) backfill those from the
 * store. The bus carries; the store guarantees.
 *
 * <p>One instance per Vert.x instance ({@link #of}); thread-safe.
 */
public final class Fanout {
  /** Anti-entropy period: each gateway node re-announces its full interest set (heals lost announcements). */
  public static final long ANNOUNCE_EVERY_MS = 30_000;
  /** Interest in every channel (a firehose: tests, future webhooks/exporters). Not a valid channel name. */
  public static final String ALL_CHANNELS = "*";
  private static final long LIVENESS_EVERY_MS = 500;
  /**
   * After a member came back (a split-brain merge), the sync request is repeated this long after the first one (ms):
   * right after a merge the routes between the members re-form over seconds, and a request or an announcement sent
   * before they did is lost; each repeat also makes every gateway check its channels' tails at once.
   */
  private static final long[] RESYNC_AFTER_MS = {2_000, 5_000, 10_000, 20_000};
  private static final Map<Vertx, Fanout> BY_VERTX = new ConcurrentHashMap<>();

  private final Vertx vertx;
  private final EventBus bus;
  private final ClusterManager cluster;
  private final Map<String, Set<String>> nodesByChannel = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> channelsByNode = new ConcurrentHashMap<>();
  /** Gateway nodes of this JVM: their entries are kept synchronously, so their own echoes are ignored. */
  private final Set<String> localNodes = ConcurrentHashMap.newKeySet();
  /** Members that left this JVM's view of the cluster (may come back after a merge); only touched by the refresh. */
  private final Set<String> gone = new HashSet<>();
  /** The pending repeats of the last merge's sync request; only touched by the refresh (one timer's context). */
  private final List<Long> resyncTimers = new java.util.ArrayList<>();
  /** Members of the cluster, refreshed from the cluster manager; null when not clustered (all nodes live). */
  private volatile Set<String> liveNodes;
  /** Publications this JVM sent to gateway nodes (one per interested node and publication): a meter. */
  private final java.util.concurrent.atomic.LongAdder sent = new java.util.concurrent.atomic.LongAdder();

  private Fanout(Vertx vertx) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.cluster = vertx instanceof VertxInternal vi ? vi.clusterManager() : null;
    PublicationCodec.register(bus);
    bus.<JsonObject>consumer(Addresses.GATEWAY_INTEREST, m -> apply(m.body()));
    if (cluster != null) {
      refreshLiveNodes();
      vertx.setPeriodic(LIVENESS_EVERY_MS, t -> refreshLiveNodes());
      // we may have joined after the gateways announced: ask them now
      bus.publish(Addresses.GATEWAY_INTEREST_SYNC, new JsonObject());
    }
  }

  /** The router of this Vert.x instance. */
  public static Fanout of(Vertx vertx) {
    Fanout f = BY_VERTX.get(vertx);
    if (f != null) return f;
    synchronized (BY_VERTX) {
      f = BY_VERTX.computeIfAbsent(vertx, Fanout::new);
      if (vertx instanceof VertxInternal vi) vi.addCloseHook(done -> {
        BY_VERTX.remove(vertx);
        done.succeed();
      });
      return f;
    }
  }

  /** Sends the publication once to every live gateway node with subscribers of its channel. */
  public void publish(Publication p) {
    Set<String> live = liveNodes;
    Set<String> nodes = nodesByChannel.get(p.channel());
    if (nodes != null) {
      for (String node : nodes) {
        if (live == null || live.contains(node)) send(node, p);
      }
    }
    Set<String> firehose = nodesByChannel.get(ALL_CHANNELS);
    if (firehose != null) {
      for (String node : firehose) {
        if ((live == null || live.contains(node)) && (nodes == null || !nodes.contains(node))) send(node, p);
      }
    }
  }

  private void send(String node, Publication p) {
    sent.increment();
    bus.send(Addresses.gatewayNode(node), p);
  }

  /** Publications this JVM has sent to gateway nodes since it started (bus messages of the fan-out). */
  public long sent() {
    return sent.sum();
  }

  // --- the gateway side --------------------------------------------------------------------------

  /** A gateway node's first local subscriber of {@code channel} arrived. */
  public void addInterest(String node, String channel) {
    localNodes.add(node);
    index(node, channel, true);
    announceChange(new JsonObject().put("node", node).put("add", new JsonArray().add(channel)));
  }

  /** A gateway node's last local subscriber of {@code channel} left. */
  public void removeInterest(String node, String channel) {
    localNodes.add(node);
    index(node, channel, false);
    announceChange(new JsonObject().put("node", node).put("remove", new JsonArray().add(channel)));
  }

  /** Other JVMs learn of a change; in one JVM the replica written above is the only one, so nothing is sent. */
  private void announceChange(JsonObject change) {
    if (cluster != null) bus.publish(Addresses.GATEWAY_INTEREST, change);
  }

  /** Announces the node's full interest set (periodically, and when another JVM asks). */
  public void announce(String node, Collection<String> channels) {
    if (cluster == null) return;
    bus.publish(Addresses.GATEWAY_INTEREST, new JsonObject().put("node", node).put("full", true)
        .put("add", new JsonArray(List.copyOf(channels))));
  }

  /** Forgets a node at once (it is shutting down). */
  public void forgetNode(String node) {
    localNodes.remove(node);
    drop(node);
    bus.publish(Addresses.GATEWAY_INTEREST, new JsonObject().put("node", node).put("full", true).put("add", new JsonArray()));
  }

  /** Which nodes currently receive the channel (tests, metrics). */
  /**
   * Channels with subscribers anywhere in the cluster (this replica's view of every gateway's interest), whose name
   * starts with {@code prefix}.
   */
  public java.util.List<String> channels(String prefix) {
    Set<String> live = liveNodes;
    java.util.List<String> out = new java.util.ArrayList<>();
    for (Map.Entry<String, Set<String>> e : nodesByChannel.entrySet()) {
      if (e.getKey().equals(ALL_CHANNELS) || !e.getKey().startsWith(prefix)) continue;
      for (String node : e.getValue()) {
        if (live == null || live.contains(node)) {
          out.add(e.getKey());
          break;
        }
      }
    }
    return out;
  }

  /** The live gateway nodes with any subscriber (each answers at {@link Addresses#gatewayCounts}). */
  public Set<String> gatewayNodes() {
    Set<String> live = liveNodes;
    Set<String> out = new java.util.HashSet<>();
    for (String node : channelsByNode.keySet()) {
      if (live == null || live.contains(node)) out.add(node);
    }
    return out;
  }

  public Set<String> nodesOf(String channel) {
    return nodesByChannel.getOrDefault(channel, Set.of());
  }

  /**
   * Channels that some gateway node has subscribers for, whose name starts with {@code prefix}, in name order, at
   * most {@code limit}: channel → number of nodes (the admin dashboard's channel list).
   */
  public java.util.SortedMap<String, Integer> channels(String prefix, int limit) {
    java.util.TreeMap<String, Integer> out = new java.util.TreeMap<>();
    for (Map.Entry<String, Set<String>> e : nodesByChannel.entrySet()) {
      if (e.getKey().startsWith(prefix) && !e.getValue().isEmpty()) out.put(e.getKey(), e.getValue().size());
    }
    while (out.size() > limit) out.pollLastEntry();
    return out;
  }

  // --- the replica -------------------------------------------------------------------------------

  private void apply(JsonObject m) {
    String node = m.getString("node");
    // our own nodes' entries were written synchronously; a late echo must not undo a newer change
    if (node == null || localNodes.contains(node)) return;
    JsonArray add = m.getJsonArray("add", new JsonArray());
    if (m.getBoolean("full", false)) {
      Set<String> wanted = new HashSet<>();
      for (Object c : add) wanted.add((String) c);
      Set<String> had = channelsByNode.getOrDefault(node, Set.of());
      for (String c : Set.copyOf(had)) if (!wanted.contains(c)) index(node, c, false);
      for (String c : wanted) index(node, c, true);
      return;
    }
    for (Object c : add) index(node, (String) c, true);
    for (Object c : m.getJsonArray("remove", new JsonArray())) index(node, (String) c, false);
  }

  /**
   * Per channel the node set is an immutable {@code Set.of(…)} replaced on change (copy on write): a channel usually
   * has one to three nodes, and every connection's personal channel is an entry, so entries must be small; readers
   * on the hot path iterate it without locks.
   */
  private void index(String node, String channel, boolean add) {
    if (add) {
      nodesByChannel.compute(channel, (c, nodes) -> nodes == null ? Set.of(node) : nodes.contains(node) ? nodes : with(nodes, node));
      channelsByNode.computeIfAbsent(node, n -> ConcurrentHashMap.newKeySet()).add(channel);
    } else {
      unroute(channel, node);
      channelsByNode.computeIfPresent(node, (n, channels) -> {
        channels.remove(channel);
        return channels.isEmpty() ? null : channels;
      });
    }
  }

  private void unroute(String channel, String node) {
    nodesByChannel.computeIfPresent(channel, (c, nodes) -> {
      if (!nodes.contains(node)) return nodes;
      if (nodes.size() == 1) return null;
      Set<String> rest = new HashSet<>(nodes);
      rest.remove(node);
      return Set.copyOf(rest);
    });
  }

  private static Set<String> with(Set<String> nodes, String node) {
    Set<String> more = new HashSet<>(nodes);
    more.add(node);
    return Set.copyOf(more);
  }

  private void drop(String node) {
    Set<String> channels = channelsByNode.remove(node);
    if (channels == null) return;
    for (String c : channels) unroute(c, node);
  }

  private void refreshLiveNodes() {
    List<String> nodes = cluster.getNodes();
    Set<String> live = Set.copyOf(nodes);
    Set<String> before = liveNodes;
    liveNodes = live;
    for (String node : Set.copyOf(channelsByNode.keySet())) if (!live.contains(node)) drop(node);
    if (before == null) return;
    for (String node : before) if (!live.contains(node)) gone.add(node);
    // a member we had counted as gone is back (a split-brain merge: both sides dropped each other's interest): ask
    // for the announcements now instead of up to ANNOUNCE_EVERY_MS later, and again while the routes re-form (see
    // RESYNC_AFTER_MS). A brand-new member asks by itself.
    boolean back = false;
    for (String node : live) back |= gone.remove(node);
    if (back) {
      // a member flapping restarts the series instead of stacking more of them
      for (long timer : resyncTimers) vertx.cancelTimer(timer);
      resyncTimers.clear();
      requestSyncAfterSplit();
      for (long after : RESYNC_AFTER_MS) resyncTimers.add(vertx.setTimer(after, t -> requestSyncAfterSplit()));
    }
  }

  /** The sync request of a merge: {@code tails} asks the gateways to also check their quiet channels' tails. */
  private void requestSyncAfterSplit() {
    bus.publish(Addresses.GATEWAY_INTEREST_SYNC, new JsonObject().put("tails", true));
  }
}
