package io.switchboard.presence;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One client present in one channel. {@code info} comes from the client's token and is the same in every channel
 * it joins; {@code state} is set per channel by the client itself ({@code presence.setState}).
 *
 * <p>The JSON objects are owned by whoever built the record: stores copy on the way in and hand out records that
 * callers must treat as read-only.
 *
 * @param joinedAt epoch millis of the first join to this channel (a re-join keeps it)
 * @param node the gateway node the client is connected to
 */
public record PresenceMember(
    String channel, String client, String subject, JsonObject info, JsonObject state, long joinedAt, String node) {

  public PresenceMember {
    if (info == null) info = new JsonObject();
    if (state == null) state = new JsonObject();
  }

  public PresenceMember withState(JsonObject newState) {
    return new PresenceMember(channel, client, subject, info, newState, joinedAt, node);
  }

  /** The member as {@code presence} answers it: {@code {client, subject, info, state, joinedAt}} (ISO-8601). */
  public JsonObject toJson() {
    return new JsonObject()
        .put("client", client)
        .put("subject", subject)
        .put("info", info.copy())
        .put("state", state.copy())
        .put("joinedAt", Instant.ofEpochMilli(joinedAt).toString());
  }

  /** Who the member is, as carried by presence.join/leave/timeout events: {@code {client, subject, info}}. */
  public JsonObject identity() {
    return new JsonObject().put("client", client).put("subject", subject).put("info", info.copy());
  }
}
