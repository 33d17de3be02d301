package io.switchboard.presence;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A client joining channels in one go (one subscribe frame of a gateway client).
 *
 * @param channels channels whose namespace keeps presence; never empty when it reaches a store
 * @param at epoch millis of the join: the joinedAt of every new member
 */
public record PresenceJoin(String client, String subject, String node, JsonObject info, List<String> channels, long at) {

  public PresenceJoin {
    if (info == null) info = new JsonObject();
    channels = List.copyOf(channels);
  }

  /** The member this join makes in {@code channel}, with no state yet. */
  public PresenceMember memberOf(String channel) {
    return new PresenceMember(channel, client, subject, info.copy(), new JsonObject(), at, node);
  }
}
