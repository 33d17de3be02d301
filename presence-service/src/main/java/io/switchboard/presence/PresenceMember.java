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
 * @param subjectClients on a join or removal handed out by a store: how many clients of this member's subject are in
 *     the channel right after it (1 = the subject's first, 0 = its last left), counted atomically with the change so
 *     per-user announcements (Pusher's member_added/removed, webhooks) happen once cluster-wide; -1 = not counted
 * @param users on a join or removal handed out by a store: how many distinct subjects are in the channel right after
 *     it, counted atomically with the change (PubNub's {@code occupancy} of join/leave events); -1 = not counted
 */
public record PresenceMember(
    String channel, String client, String subject, JsonObject info, JsonObject state, long joinedAt, String node,
    int subjectClients,
    int users) {

  public PresenceMember {
    if (info == null) info = new JsonObject();
    if (state == null) state = new JsonObject();
  }

  public PresenceMember(String channel, String client, String subject, JsonObject info, JsonObject state, long joinedAt, String node) {
    this(channel, client, subject, info, state, joinedAt, node, -1, -1);
  }

  public PresenceMember withState(JsonObject newState) {
    return new PresenceMember(channel, client, subject, info, newState, joinedAt, node, -1, -1);
  }

  public PresenceMember withSubjectClients(int n) {
    return new PresenceMember(channel, client, subject, info, state, joinedAt, node, n, users);
  }

  /** The same member with the counts of the change that handed it out. */
  public PresenceMember withCounts(int subjectClients, int users) {
    return new PresenceMember(channel, client, subject, info, state, joinedAt, node, subjectClients, users);
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

  /** Who the member is, as carried by presence.join/leave/timeout events: {@code {client, subject, info, subjectClients?, users?}}. */
  public JsonObject identity() {
    JsonObject j = new JsonObject().put("client", client).put("subject", subject).put("info", info.copy());
    if (subjectClients >= 0) j.put("subjectClients", subjectClients);
    if (users >= 0) j.put("users", users);
    return j;
  }
}
