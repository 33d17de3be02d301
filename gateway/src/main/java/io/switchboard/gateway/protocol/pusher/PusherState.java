package io.switchboard.gateway.protocol.pusher;

import io.switchboard.common.Capability;
import io.vertx.core.json.JsonObject;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** What the Pusher dialect keeps per session (in {@code Session.dialectState}). */
final class PusherState {
  /** A presence channel's member identity, from the signed channel_data. */
  record PresenceUser(String userId, JsonObject userInfo) {}

  /** Capabilities a valid signature authorized, per private/presence channel (Switchboard name). */
  final Map<String, Set<Capability>> authorized = new HashMap<>();
  final Map<String, PresenceUser> presence = new HashMap<>();
  /** The signed-in user (pusher:signin), or null. */
  String userId;
  // client events: token bucket per connection
  private double tokens;
  private long tokensAt;
  private final int perSecond;

  PusherState(int clientEventsPerSecond) {
    this.perSecond = clientEventsPerSecond;
    this.tokens = clientEventsPerSecond;
    this.tokensAt = System.currentTimeMillis();
  }

  /** Takes one client-event token; false past the per-second limit. */
  boolean takeClientEvent(long now) {
    tokens = Math.min(perSecond, tokens + (now - tokensAt) * perSecond / 1000.0);
    tokensAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  static Set<Capability> caps(boolean clientEvents) {
    EnumSet<Capability> c = EnumSet.of(Capability.SUBSCRIBE, Capability.PRESENCE, Capability.HISTORY);
    if (clientEvents) c.add(Capability.PUBLISH);
    return c;
  }
}
