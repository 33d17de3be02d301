package io.switchboard.presence;

import io.switchboard.common.App;
import io.switchboard.common.Channels;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns what happened (a presence member's first join or last leave, a channel's cluster-wide occupation, an event a
 * gateway raised) into queued webhook items of Pusher's event shapes, one per webhook of the app that wants the event.
 * Callers only call it for transitions the stores computed once, so each event is queued once cluster-wide.
 *
 * <p>Pusher's delay: {@code channel_vacated} and {@code member_removed} are held {@code holdMs}; the opposite event
 * within that time ({@code channel_occupied} of the channel, {@code member_added} of the user) drops both, so a page
 * reload or a reconnect produces no webhook at all.
 */
final class Webhooks {
  private static final System.Logger LOG = System.getLogger(Webhooks.class.getName());

  private final Map<String, App> apps = new HashMap<>();
  private final WebhookQueue queue;
  private final long holdMs;

  Webhooks(List<App> configured, WebhookQueue queue, long holdMs) {
    for (App a : configured) apps.put(a.id(), a);
    this.queue = queue;
    this.holdMs = holdMs;
  }

  static Webhooks fromConfig(JsonObject config, WebhookQueue queue) {
    return new Webhooks(App.parseAll(config.getJsonArray("apps")), queue, config.getJsonObject("webhooks").getLong("holdMs"));
  }

  /** Whether any configured app has a webhook. */
  static boolean configured(JsonObject config) {
    return App.parseAll(config.getJsonArray("apps")).stream().anyMatch(a -> !a.webhooks().isEmpty());
  }

  App app(String id) {
    return apps.get(id);
  }

  /** {@code member_added} for each member that is its user's first client in a {@code presence-} channel. */
  void joined(List<PresenceMember> added) {
    for (PresenceMember m : added) if (m.subjectClients() == 1) member(m, true);
  }

  /** {@code member_removed} for each member that was its user's last client in a {@code presence-} channel. */
  void left(List<PresenceMember> removed) {
    for (PresenceMember m : removed) if (m.subjectClients() == 0) member(m, false);
  }

  private void member(PresenceMember m, boolean added) {
    App app = apps.get(App.appOf(m.channel()));
    String local = App.local(m.channel());
    if (app == null || app.webhooks().isEmpty() || !local.startsWith("presence-")) return;
    JsonObject event = new JsonObject().put("name", added ? "member_added" : "member_removed").put("channel", local)
        .put("user_id", m.subject());
    String hold = "m|" + m.channel() + "|" + m.subject();
    enqueue(app, event, added ? WebhookQueue.Kind.CANCEL : WebhookQueue.Kind.HOLD, hold);
  }

  /** {@code channel_occupied} / {@code channel_vacated} of a scoped channel name. */
  Future<Boolean> occupancy(String channel, boolean occupied) {
    App app = apps.get(App.appOf(channel));
    String local = App.local(channel);
    if (app == null || app.webhooks().isEmpty() || Channels.isPersonal(local)) return Future.succeededFuture(false);
    JsonObject event = new JsonObject().put("name", occupied ? "channel_occupied" : "channel_vacated").put("channel", local);
    return enqueue(app, event, occupied ? WebhookQueue.Kind.CANCEL : WebhookQueue.Kind.HOLD, "c|" + channel);
  }

  /** An event a gateway raised ({@code client_event}, {@code cache_miss}), queued as it is. */
  Future<Boolean> raised(App app, JsonObject event) {
    return enqueue(app, event, WebhookQueue.Kind.PLAIN, null);
  }

  private Future<Boolean> enqueue(App app, JsonObject event, WebhookQueue.Kind kind, String hold) {
    long now = System.currentTimeMillis();
    List<JsonObject> items = new ArrayList<>();
    for (App.Webhook w : app.webhooks()) {
      if (!w.wants(event.getString("name"))) continue;
      items.add(new JsonObject().put("app", app.id()).put("url", w.url()).put("event", event).put("at", now).put("attempts", 0));
    }
    // a cancel runs even without targets of its own: it still drops the held opposite event
    if (items.isEmpty() && kind != WebhookQueue.Kind.CANCEL) return Future.succeededFuture(false);
    return queue.enqueue(items, kind, hold, now, now + holdMs).onFailure(t -> LOG.log(System.Logger.Level.WARNING,
        "webhook event " + event.getString("name") + " of app " + app.id() + " could not be queued: " + t.getMessage()));
  }
}
