package io.switchboard.presence;

import io.switchboard.common.Addresses;
import io.switchboard.common.BusReplies;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Fanout;
import io.switchboard.common.Namespaces;
import io.switchboard.common.PublicationCodec;
import io.switchboard.common.ServiceError;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The presence service: keeps who is present in which channel (for namespaces with presence on), answers
 * {@code presence} queries and state changes, and announces joins, leaves, timeouts and state on the fanout
 * address. Gateways keep their clients alive with one {@code presence.refresh} per node and period; a sweeper
 * removes the clients whose refresh stopped (their gateway died or lost the bus).
 *
 * <p>Several instances may run, in one JVM or many: the store decides who wins each removal, so every member's
 * departure is announced exactly once. Where an app has webhooks it also queues member_added/member_removed for a
 * user's first and last client, and deploys the {@link WebhookVerticle} (occupancy and delivery).
 */
public final class PresenceVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(PresenceVerticle.class.getName());

  private final ClientSequencer sequencer = new ClientSequencer();
  private PresenceStore store;
  private PresenceEvents events;
  /** Member webhooks (member_added/removed); null when no app has a webhook. */
  private Webhooks webhooks;
  private WebhookQueue webhookQueue;
  private Namespaces namespaces;
  private long timeoutMs;
  private long sweepTimer = -1;
  private boolean sweeping;
  private boolean sweepFailing;

  @Override
  public Future<?> start() {
    JsonObject config = config();
    JsonObject presence = config.getJsonObject("presence");
    timeoutMs = presence.getLong("timeoutSeconds") * 1000;
    long sweepIntervalMs = presence.getLong("sweepIntervalMs");
    namespaces = Namespaces.fromConfig(config.getJsonObject("channels"));
    EventBus bus = vertx.eventBus();
    PublicationCodec.register(bus);
    store = PresenceStore.create(vertx, config);
    events = new PresenceEvents(Fanout.of(vertx), namespaces);
    if (Webhooks.configured(config)) {
      webhookQueue = WebhookQueue.create(vertx, config);
      webhooks = Webhooks.fromConfig(config, webhookQueue);
    }
    // every consumer answers whatever happens (BusReplies); a failed fire-and-forget message is logged
    return Future.all(List.of(
            BusReplies.serve(bus, Addresses.PRESENCE_JOIN, this::join).completion(),
            BusReplies.serve(bus, Addresses.PRESENCE_LEAVE, this::leave).completion(),
            BusReplies.serve(bus, Addresses.PRESENCE_REFRESH, this::refresh).completion(),
            BusReplies.serve(bus, Addresses.PRESENCE_QUERY, this::query).completion(),
            BusReplies.serve(bus, Addresses.PRESENCE_SET_STATE, this::setState).completion()))
        // the webhook sender (and occupancy), only where some app has a webhook
        .compose(v -> webhooks == null ? idleWebhookMeters()
            : vertx.deployVerticle(new WebhookVerticle(), new DeploymentOptions().setConfig(config)))
        .onSuccess(v -> sweepTimer = vertx.setPeriodic(sweepIntervalMs, id -> sweep()));
  }

  @Override
  public Future<?> stop() {
    if (sweepTimer >= 0) vertx.cancelTimer(sweepTimer);
    if (webhooks != null) webhookQueue.close();
    return store == null ? Future.succeededFuture() : store.close();
  }

  /** {@code {client, subject, node, info, channels:[…]}}: new members are announced; presence-off channels skipped. */
  private Future<JsonObject> join(Message<Object> msg) {
    JsonObject body = PresenceRequests.body(msg);
    String client = PresenceRequests.string(body, "client");
    String subject = PresenceRequests.string(body, "subject");
    String node = PresenceRequests.string(body, "node", "");
    JsonObject info = PresenceRequests.value(body, "info", false).copy();
    List<String> channels = PresenceRequests.channels(body);
    if (channels == null) throw ServiceError.badRequest("'channels' must list the channels joined");
    List<String> kept = channels.stream().filter(this::keepsPresence).distinct().toList();
    if (kept.isEmpty()) return Future.succeededFuture(new JsonObject());
    long now = System.currentTimeMillis();
    PresenceJoin join = new PresenceJoin(client, subject, node, info, kept, now);
    return sequencer.run(client, () -> store.join(join, now + timeoutMs))
        .map(added -> {
          events.joined(added);
          if (webhooks != null) webhooks.joined(added);
          return new JsonObject();
        });
  }

  /**
   * {@code {client, channels?:[…], timeout?}}: without channels the client leaves all of them (disconnect); with
   * {@code timeout} true the gateway saw the client go silent, and the leave is announced as a timeout.
   */
  private Future<JsonObject> leave(Message<Object> msg) {
    JsonObject body = PresenceRequests.body(msg);
    String client = PresenceRequests.string(body, "client");
    List<String> channels = PresenceRequests.channels(body);
    List<String> kept = channels == null ? null : channels.stream().filter(this::keepsPresence).distinct().toList();
    if (kept != null && kept.isEmpty()) return Future.succeededFuture(new JsonObject());
    return sequencer.run(client, () -> store.leave(client, kept))
        .map(removed -> {
          if (body.getBoolean("timeout", false)) events.timedOut(removed);
          else events.left(removed);
          if (webhooks != null) webhooks.left(removed);
          return new JsonObject();
        });
  }

  /** {@code {node, clients:[…]}}: one message keeps all of a gateway node's clients alive for another timeout. */
  private Future<JsonObject> refresh(Message<Object> msg) {
    JsonObject body = PresenceRequests.body(msg);
    String node = PresenceRequests.string(body, "node", "");
    List<String> clients = PresenceRequests.strings(body, "clients");
    if (clients.isEmpty()) return Future.succeededFuture(new JsonObject());
    return store.refresh(node, clients, System.currentTimeMillis() + timeoutMs).map(v -> new JsonObject());
  }

  /** {@code {channel}} → {@code {members:[{client, subject, info, state, joinedAt}]}}. */
  private Future<JsonObject> query(Message<Object> msg) {
    String channel = PresenceRequests.channel(PresenceRequests.body(msg));
    requirePresence(channel);
    return store.members(channel).map(members -> {
      JsonArray list = new JsonArray();
      for (PresenceMember m : members) list.add(m.toJson());
      return new JsonObject().put("members", list);
    });
  }

  /** {@code {channel, client, state}} → {}; the channel gets {@code presence.state}. */
  private Future<JsonObject> setState(Message<Object> msg) {
    JsonObject body = PresenceRequests.body(msg);
    String channel = PresenceRequests.channel(body);
    String client = PresenceRequests.string(body, "client");
    JsonObject state = PresenceRequests.value(body, "state", true).copy();
    requirePresence(channel);
    return sequencer.run(client, () -> store.setState(channel, client, state))
        .map(member -> {
          events.stateChanged(member);
          return new JsonObject();
        });
  }

  /** Removes the clients whose deadline passed; one sweep at a time per instance. */
  private void sweep() {
    if (sweeping) return;
    sweeping = true;
    store.sweep(System.currentTimeMillis())
        .onSuccess(expired -> {
          events.timedOut(expired);
          if (webhooks != null) webhooks.left(expired);
          if (sweepFailing) LOG.log(System.Logger.Level.INFO, "presence sweep works again");
          sweepFailing = false;
        })
        .onFailure(t -> {
          // logged once per outage, not once per tick
          if (!sweepFailing) LOG.log(System.Logger.Level.WARNING, "presence sweep failed, retrying: " + t.getMessage());
          sweepFailing = true;
        })
        .onComplete(done -> sweeping = false);
  }

  private boolean keepsPresence(String channel) {
    NamespaceOptions options = namespaces.of(channel);
    return options != null && options.presence();
  }

  private void requirePresence(String channel) {
    NamespaceOptions options = namespaces.of(channel);
    if (options == null) throw new ServiceError(ErrorCode.UNKNOWN_CHANNEL, "channel " + channel + " is in no configured namespace");
    if (!options.presence()) throw ServiceError.badRequest("presence is off for the namespace of channel " + channel);
  }

  private <T> Future<T> idleWebhookMeters() {
    WebhookVerticle.idleMeters(config().getJsonObject("operations").getString("registryName"));
    return Future.succeededFuture();
  }
}
