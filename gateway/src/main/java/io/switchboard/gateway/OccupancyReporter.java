package io.switchboard.gateway;

import io.switchboard.common.Addresses;
import io.switchboard.common.App;
import io.switchboard.common.Channels;
import io.switchboard.gateway.core.Apps;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Tells the webhook service which channels this node has local subscribers for, for apps whose webhooks want
 * {@code channel_occupied}/{@code channel_vacated}. The node's first subscriber of a channel and its last leaving are
 * {@link GatewayService}'s reference count; the cluster-wide transition is the webhook service's (presence store).
 *
 * <p>Every change carries the node's next sequence number: the store ignores a change that arrives after a later one,
 * so a change that failed can be sent again safely (it is, while it is still the channel's latest). A heartbeat keeps
 * the node alive in the store; when the store answers that the node had been taken for dead (its channels vacated),
 * every channel the node still occupies is announced again.
 */
final class OccupancyReporter {
  private static final System.Logger LOG = System.getLogger(OccupancyReporter.class.getName());
  private static final long RETRY_MS = 1000;
  private static final int MAX_RETRIES = 30;

  private final Vertx vertx;
  private final String node;
  private final Apps apps;
  private final DeliveryOptions timeout;
  /** channel → seq of this node's latest change of it, and whether it occupies it; guarded by {@code this}. */
  private final Map<String, long[]> latest = new HashMap<>();
  private long seq;

  OccupancyReporter(Vertx vertx, String node, Apps apps, long requestTimeoutMs) {
    this.vertx = vertx;
    this.node = node;
    this.apps = apps;
    this.timeout = new DeliveryOptions().setSendTimeout(requestTimeoutMs);
  }

  /** Whether any app wants occupancy webhooks (else nothing is ever sent). */
  boolean active() {
    for (App a : apps.all()) if (wants(a)) return true;
    return false;
  }

  private static boolean wants(App a) {
    return a.wantsWebhook("channel_occupied") || a.wantsWebhook("channel_vacated");
  }

  /** The node's first local subscriber of {@code channel} arrived ({@code occupied}) or its last one left. */
  synchronized void changed(String channel, boolean occupied) {
    App app = apps.byId(App.appOf(channel));
    if (app == null || !wants(app) || Channels.isPersonal(App.local(channel))) return;
    long n = ++seq;
    if (occupied) latest.put(channel, new long[] {n, 1});
    else latest.put(channel, new long[] {n, 0});
    send(channel, n, occupied, 0);
  }

  private void send(String channel, long n, boolean occupied, int attempt) {
    JsonObject change = new JsonObject().put("node", node).put("seq", n).put("channel", channel).put("occupied", occupied);
    vertx.eventBus().request(Addresses.WEBHOOKS_OCCUPANCY, change, timeout).onComplete(ar -> {
      if (ar.succeeded()) {
        settled(channel, n);
        return;
      }
      if (attempt == 0) LOG.log(System.Logger.Level.WARNING, "occupancy of " + channel + " not applied (" + ar.cause().getMessage() + "), retrying",
          io.switchboard.common.LogFields.of(io.switchboard.common.LogFields.CHANNEL, channel));
      if (attempt < MAX_RETRIES && isLatest(channel, n)) vertx.setTimer(RETRY_MS, t -> {
        if (isLatest(channel, n)) send(channel, n, occupied, attempt + 1);
      });
    });
  }

  private synchronized boolean isLatest(String channel, long n) {
    long[] l = latest.get(channel);
    return l != null && l[0] == n;
  }

  /** A vacated channel is forgotten once the store has it; an occupied one stays for re-announcing. */
  private synchronized void settled(String channel, long n) {
    long[] l = latest.get(channel);
    if (l != null && l[0] == n && l[1] == 0) latest.remove(channel);
  }

  /** Keeps this node alive in the store; re-announces its channels when it had been taken for dead. */
  void heartbeat() {
    vertx.eventBus().<JsonObject>request(Addresses.WEBHOOKS_NODE_ALIVE, new JsonObject().put("node", node), timeout)
        .onSuccess(m -> {
          if (!m.body().getBoolean("known", true)) reannounce();
        });
  }

  private synchronized void reannounce() {
    List<String> channels = latest.entrySet().stream().filter(e -> e.getValue()[1] == 1).map(Map.Entry::getKey).toList();
    LOG.log(System.Logger.Level.WARNING, "node " + node + " was taken for dead by the webhook service; re-announcing "
        + channels.size() + " occupied channels");
    for (String channel : channels) {
      long n = ++seq;
      latest.put(channel, new long[] {n, 1});
      send(channel, n, true, 0);
    }
  }
}
