package io.switchboard.common;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * One message on a channel, as stored and delivered (architecture.md "The message"). Immutable, so one instance is
 * shared by every gateway instance of a JVM that delivers it (see {@link PublicationCodec}).
 *
 * <p>Stored publications have {@code offset > 0} and an {@code epoch}; ephemeral ones (history 0 namespaces,
 * presence and ack events) have offset 0 and no epoch. Optional fields are null/0/false when unset and then left
 * out of the JSON.
 *
 * @param data any JSON value: JsonObject, JsonArray, String, Number, Boolean or null
 * @param ttl seconds after {@code timestamp} when the publication expires; 0 = never
 * @param exclude a client id the fan-out skips (the sender of a Pusher client event, a trigger's {@code socket_id});
 *     routing only: never stored, carried by the bus codec
 * @param meta publisher metadata (PubNub's publish {@code meta}): a JSON object stored and delivered with the
 *     publication, never part of {@code data}; null when unset
 */
public record Publication(
    String id,
    String channel,
    long offset,
    String epoch,
    long timestamp,
    String event,
    Object data,
    String sourceType,
    String sourceId,
    Priority priority,
    List<String> tags,
    int ttl,
    boolean requiresAck,
    String correlationId,
    String exclude,
    JsonObject meta) {

  public Publication(String id, String channel, long offset, String epoch, long timestamp, String event, Object data,
      String sourceType, String sourceId, Priority priority, List<String> tags, int ttl, boolean requiresAck, String correlationId,
      String exclude) {
    this(id, channel, offset, epoch, timestamp, event, data, sourceType, sourceId, priority, tags, ttl, requiresAck, correlationId, exclude, null);
  }

  public Publication(String id, String channel, long offset, String epoch, long timestamp, String event, Object data,
      String sourceType, String sourceId, Priority priority, List<String> tags, int ttl, boolean requiresAck, String correlationId) {
    this(id, channel, offset, epoch, timestamp, event, data, sourceType, sourceId, priority, tags, ttl, requiresAck, correlationId, null, null);
  }

  public Publication {
    tags = tags == null ? List.of() : List.copyOf(tags);
    if (priority == null) priority = Priority.NORMAL;
  }

  /** An ephemeral event with no id or offset (presence and ack events). */
  public static Publication event(String channel, String event, Object data) {
    return new Publication(null, channel, 0, null, System.currentTimeMillis(), event, data, null, null, null, null, 0, false, null);
  }

  public boolean stored() {
    return offset > 0;
  }

  /** Whether a publication with a ttl has passed its expiry at {@code nowMillis}. */
  public boolean expiredAt(long nowMillis) {
    return ttl > 0 && timestamp + ttl * 1000L <= nowMillis;
  }

  public Publication withPosition(String id, long offset, String epoch, long timestamp) {
    return new Publication(id, channel, offset, epoch, timestamp, event, data, sourceType, sourceId, priority, tags, ttl,
        requiresAck, correlationId, exclude, meta);
  }

  /** The same publication, skipped by the fan-out for one client. */
  public Publication withExclude(String client) {
    return new Publication(id, channel, offset, epoch, timestamp, event, data, sourceType, sourceId, priority, tags, ttl,
        requiresAck, correlationId, client, meta);
  }

  /** The same publication with publisher metadata (null = none). */
  public Publication withMeta(JsonObject m) {
    return new Publication(id, channel, offset, epoch, timestamp, event, data, sourceType, sourceId, priority, tags, ttl,
        requiresAck, correlationId, exclude, m);
  }

  /** The JSON of the publication: every field that is set, in wire names (no {@code type}). */
  public JsonObject toJson() {
    return toJson(new JsonObject());
  }

  /**
   * {@link #toJson()} written into {@code j} after what it holds (a frame's own fields first, e.g. the native event's
   * {@code type}): one JSON tree per frame instead of a second one merged into the first.
   */
  public JsonObject toJson(JsonObject j) {
    j.put("channel", channel).put("event", event);
    if (id != null) j.put("id", id);
    if (offset > 0) j.put("offset", offset);
    if (epoch != null) j.put("epoch", epoch);
    j.put("timestamp", isoTimestamp(timestamp));
    if (sourceType != null) j.put("source", new JsonObject().put("type", sourceType).put("id", sourceId));
    if (id != null || sourceType != null) {
      // a publication (not a presence/ack event): priority and tags are always shown
      j.put("priority", priority.wire());
      j.put("tags", new JsonArray(tags));
    }
    if (ttl > 0) j.put("ttl", ttl);
    if (requiresAck) j.put("requiresAck", true);
    if (correlationId != null) j.put("correlationId", correlationId);
    if (meta != null) j.put("meta", meta);
    j.put("data", data);
    return j;
  }

  private record Stamp(long millis, String text) {}

  /** The last timestamp formatted (any thread; a stale read only costs a formatting). */
  private static volatile Stamp lastStamp = new Stamp(Long.MIN_VALUE, "");

  /**
   * {@code Instant.ofEpochMilli(millis).toString()}, remembering the last one: a publication's timestamp is formatted
   * several times on its way (its stored JSON, the store's answer, each dialect's event frame), mostly one right
   * after the other, and ISO formatting costs more than the rest of a small publication's fields.
   */
  public static String isoTimestamp(long millis) {
    Stamp s = lastStamp;
    if (s.millis == millis) return s.text;
    String text = Instant.ofEpochMilli(millis).toString();
    lastStamp = new Stamp(millis, text);
    return text;
  }

  /** Reads {@link #toJson()} output back (store engines, cluster codec). Trusts its input. */
  public static Publication fromJson(JsonObject j) {
    JsonObject src = j.getJsonObject("source");
    JsonArray tags = j.getJsonArray("tags");
    String ts = j.getString("timestamp");
    Priority priority = Priority.parse(j.getString("priority"));
    @SuppressWarnings("unchecked")
    List<String> tagList = tags == null ? List.of() : (List<String>) (List<?>) tags.getList();
    return new Publication(
        j.getString("id"),
        j.getString("channel"),
        j.getLong("offset", 0L),
        j.getString("epoch"),
        ts == null ? 0 : Instant.parse(ts).toEpochMilli(),
        j.getString("event"),
        j.getValue("data"),
        src == null ? null : src.getString("type"),
        src == null ? null : src.getString("id"),
        priority,
        tagList,
        j.getInteger("ttl", 0),
        j.getBoolean("requiresAck", false),
        j.getString("correlationId"),
        j.getString("exclude"),
        j.getValue("meta") instanceof JsonObject m ? m : null);
  }
}
