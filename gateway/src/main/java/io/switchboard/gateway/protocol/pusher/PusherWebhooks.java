package io.switchboard.gateway.protocol.pusher;

import io.switchboard.common.Addresses;
import io.switchboard.gateway.core.Session;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The webhook events the Pusher dialect raises, sent to the webhook service ({@code webhooks.enqueue}) when the app has
 * a webhook that wants them. Fire-and-forget: a gateway never waits on webhooks.
 */
final class PusherWebhooks {
  private PusherWebhooks() {}

  /** {@code client_event}: {@code {channel, event, data, socket_id, user_id?}} (user_id on presence channels). */
  static void clientEvent(Session s, String channel, String event, Object data, String userId) {
    if (!s.app.wantsWebhook("client_event")) return;
    JsonObject e = new JsonObject().put("name", "client_event").put("channel", channel).put("event", event)
        .put("data", PusherDialect.dataString(data)).put("socket_id", s.id);
    if (userId != null && channel.startsWith("presence-")) e.put("user_id", userId);
    raise(s, e);
  }

  /** {@code cache_miss}: a subscriber of a cache channel found no cached event. */
  static void cacheMiss(Session s, String channel) {
    if (!s.app.wantsWebhook("cache_miss")) return;
    raise(s, new JsonObject().put("name", "cache_miss").put("channel", channel));
  }

  private static void raise(Session s, JsonObject event) {
    s.loop.bus.send(Addresses.WEBHOOKS_ENQUEUE, new JsonObject().put("app", s.app.id()).put("events", new JsonArray().add(event)));
  }
}
