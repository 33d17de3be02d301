package io.switchboard.store;

import io.switchboard.common.Channels;
import io.switchboard.common.Defaults;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Namespaces;
import io.switchboard.common.Priority;
import io.switchboard.common.Publication;
import io.switchboard.common.SafeJson;
import io.switchboard.common.ServiceError;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.DateTimeException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the store's bus requests (see {@link StoreVerticle} for the JSON) into domain values, refusing bad input
 * with {@code bad_request} / {@code unknown_channel} naming the field, and writes replies. Nothing reaches an engine
 * unvalidated.
 */
final class StoreJson {
  static final int MAX_IDEMPOTENCY_KEY = 256;
  /** Largest offset a request may name: 2^53 - 1, the largest integer every JSON client reads exactly. */
  static final long MAX_OFFSET = (1L << 53) - 1;
  /** Latest sinceTime accepted: 9999-12-31T23:59:59.999Z, the last instant ISO-8601 writes without a sign. */
  static final long MAX_SINCE_TIME = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();

  /** A valid channel of a known, stored namespace. */
  record Target(String channel, NamespaceOptions options) {}

  private final Namespaces namespaces;
  private final StoreSettings settings;

  StoreJson(Namespaces namespaces, StoreSettings settings) {
    this.namespaces = namespaces;
    this.settings = settings;
  }

  static JsonObject body(Object body) {
    if (body instanceof JsonObject j) return j;
    throw ServiceError.badRequest("request body must be a JSON object");
  }

  Target target(Object value, String field) {
    if (!(value instanceof String channel)) throw ServiceError.badRequest(field + " must be a channel name (string)");
    String why = Channels.invalidScopedReason(channel);
    if (why != null) throw ServiceError.badRequest(field + ": " + why);
    NamespaceOptions o = namespaces.of(channel);
    if (o == null) {
      throw new ServiceError(ErrorCode.UNKNOWN_CHANNEL,
          "channel " + channel + " is in namespace '" + Channels.namespace(channel) + "', which is not configured");
    }
    if (o.ephemeral()) throw StoreErrors.ephemeral(channel);
    return new Target(channel, o);
  }

  /**
   * A channel of a heads request: its name when its namespace stores publications, null when there is no head to read
   * (an ephemeral or unconfigured namespace); a value that is no valid channel name is a bad request.
   */
  String storedChannel(Object value, String field) {
    if (!(value instanceof String channel)) throw ServiceError.badRequest(field + " must be a channel name (string)");
    String why = Channels.invalidScopedReason(channel);
    if (why != null) throw ServiceError.badRequest(field + ": " + why);
    NamespaceOptions o = namespaces.of(channel);
    return o == null || o.ephemeral() ? null : channel;
  }

  /** The publication to store, unstamped; the server-made fields (id, offset, epoch, timestamp) are ignored. */
  Publication publication(JsonObject req) {
    JsonObject p = object(req, "publication", true);
    String channel = target(p.getValue("channel"), "publication.channel").channel();
    String event = string(p, "event", "publication.event", true);
    if (event.isEmpty()) throw ServiceError.badRequest("publication.event must not be empty");
    JsonObject source = object(p, "source", false);
    String sourceType = source == null ? null : string(source, "type", "publication.source.type", true);
    String sourceId = source == null ? null : string(source, "id", "publication.source.id", false);
    String prio = string(p, "priority", "publication.priority", false);
    Priority priority = prio == null ? Priority.NORMAL : Priority.parse(prio);
    if (priority == null) throw ServiceError.badRequest("publication.priority must be critical, high, normal or low, got '" + prio + "'");
    List<String> tags = strings(p.getValue("tags"), "publication.tags");
    int ttl = (int) whole(p.getValue("ttl"), "publication.ttl", 0, Integer.MAX_VALUE, 0);
    boolean requiresAck = bool(p.getValue("requiresAck"), "publication.requiresAck");
    String correlationId = string(p, "correlationId", "publication.correlationId", false);
    // defence in depth: gateways parse frames with SafeJson, but anything on the bus may send here
    SafeJson.checkDepth(p.getValue("data"), Defaults.MAX_JSON_DEPTH, "publication.data");
    JsonObject meta = object(p, "meta", false);
    if (meta != null) SafeJson.checkDepth(meta, Defaults.MAX_JSON_DEPTH, "publication.meta");
    return new Publication(null, channel, 0, null, 0, event, p.getValue("data"), sourceType, sourceId, priority, tags,
        ttl, requiresAck, correlationId, null, meta);
  }

  static String idempotencyKey(JsonObject req) {
    String key = string(req, "idempotencyKey", "idempotencyKey", false);
    if (key != null && (key.isEmpty() || key.length() > MAX_IDEMPOTENCY_KEY)) {
      throw ServiceError.badRequest("idempotencyKey must be 1 to " + MAX_IDEMPOTENCY_KEY + " characters, got " + key.length());
    }
    return key;
  }

  /** {@code {offset, epoch}} of a position (recovery or history since). */
  static Position position(Object value, String field) {
    if (!(value instanceof JsonObject p)) throw ServiceError.badRequest(field + " must be an object {offset, epoch}");
    long offset = whole(p.getValue("offset"), field + ".offset", 0, MAX_OFFSET, -1);
    if (offset < 0) throw ServiceError.badRequest(field + ".offset is required");
    return new Position(offset, string(p, "epoch", field + ".epoch", true));
  }

  HistoryQuery history(JsonObject req) {
    Target t = target(req.getValue("channel"), "channel");
    Position since = req.getValue("since") == null ? null : position(req.getValue("since"), "since");
    Long sinceTime = sinceTime(req.getValue("sinceTime"));
    // since and sinceTime together: both bounds apply (how a cut sinceTime page continues, see Addresses)
    int max = settings.maxHistoryLimit();
    long limit = whole(req.getValue("limit"), "limit", 0, Long.MAX_VALUE, max);
    if (limit > max) {
      throw ServiceError.badRequest("limit " + limit + " is above the maximum " + max + " (store.maxHistoryLimit)");
    }
    boolean reverse = bool(req.getValue("reverse"), "reverse");
    String subject = string(req, "subject", "subject", false);
    HistoryFilter filter = filter(req.getValue("filter"));
    if (filter.unacked() && (subject == null || subject.isEmpty())) {
      throw ServiceError.badRequest("filter.unacked needs the subject whose acks count");
    }
    return new HistoryQuery(t.channel(), t.options(), since, sinceTime, (int) limit, reverse, filter, subject);
  }

  /** The optional {@code since:{offset, epoch}} of a pending request. */
  static Position pendingSince(JsonObject req) {
    return req.getValue("since") == null ? null : position(req.getValue("since"), "since");
  }

  List<String> ackIds(JsonObject req) {
    if (!(req.getValue("ids") instanceof JsonArray)) throw ServiceError.badRequest("ids must be an array of publication ids");
    List<String> ids = strings(req.getValue("ids"), "ids");
    if (ids.size() > settings.maxAckIds()) {
      throw ServiceError.badRequest("ids has " + ids.size() + " entries, more than the maximum " + settings.maxAckIds()
          + " (store.maxAckIds)");
    }
    return ids;
  }

  static String subject(JsonObject req) {
    String s = string(req, "subject", "subject", true);
    if (s.isEmpty()) throw ServiceError.badRequest("subject must not be empty");
    return s;
  }

  // --- replies -------------------------------------------------------------------------------------------------

  static JsonObject appended(AppendResult r) {
    Publication p = r.publication();
    JsonObject j = new JsonObject().put("id", p.id()).put("offset", p.offset()).put("epoch", p.epoch())
        .put("timestamp", Publication.isoTimestamp(p.timestamp()));
    if (r.duplicate()) j.put("duplicate", true);
    return j;
  }

  static JsonArray publications(List<Publication> pubs) {
    JsonArray a = new JsonArray();
    for (Publication p : pubs) a.add(p.toJson());
    return a;
  }

  /** {@code {publications, offset, epoch, more?:true, next?:{offset, epoch}}}. */
  static JsonObject historyPage(HistoryPage page) {
    JsonObject j = new JsonObject()
        .put("publications", publications(page.publications()))
        .put("offset", page.offset())
        .put("epoch", page.epoch());
    return more(j, page.next());
  }

  /** {@code {publications, more?:true, next?:{offset, epoch}}}. */
  static JsonObject pendingPage(PendingPage page) {
    return more(new JsonObject().put("publications", publications(page.publications())), page.next());
  }

  /** Adds {@code more:true, next:{offset, epoch}} when the answer was cut by store.maxHistoryBytes. */
  static JsonObject more(JsonObject answer, Position next) {
    if (next == null) return answer;
    return answer.put("more", true).put("next", new JsonObject().put("offset", next.offset()).put("epoch", next.epoch()));
  }

  static JsonObject error(String channel, ServiceError e) {
    return new JsonObject().put("channel", channel).put("error", e.toJson());
  }

  // --- field readers -------------------------------------------------------------------------------------------

  private static HistoryFilter filter(Object value) {
    if (value == null) return HistoryFilter.ALL;
    if (!(value instanceof JsonObject f)) throw ServiceError.badRequest("filter must be an object");
    Set<Priority> priorities = new HashSet<>();
    for (String s : strings(f.getValue("priority"), "filter.priority")) {
      Priority p = Priority.parse(s);
      if (p == null) throw ServiceError.badRequest("filter.priority has '" + s + "', not one of critical, high, normal, low");
      priorities.add(p);
    }
    return new HistoryFilter(priorities, new HashSet<>(strings(f.getValue("tags"), "filter.tags")),
        new HashSet<>(strings(f.getValue("sourceType"), "filter.sourceType")), bool(f.getValue("unacked"), "filter.unacked"));
  }

  /** Epoch ms from 1970 to {@link #MAX_SINCE_TIME}; an instant out of that range is refused, not overflowed. */
  private static Long sinceTime(Object v) {
    if (v == null) return null;
    if (v instanceof String s) {
      long ms;
      try {
        ms = Instant.parse(s).toEpochMilli();
      } catch (DateTimeException | ArithmeticException e) {
        throw ServiceError.badRequest("sinceTime must be epoch milliseconds or an ISO-8601 instant between "
            + "1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z, got '" + Channels.abbreviate(s) + "'");
      }
      if (ms < 0 || ms > MAX_SINCE_TIME) {
        throw ServiceError.badRequest("sinceTime must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z, got '"
            + Channels.abbreviate(s) + "'");
      }
      return ms;
    }
    return whole(v, "sinceTime", 0, MAX_SINCE_TIME, 0);
  }

  private static JsonObject object(JsonObject j, String key, boolean required) {
    Object v = j.getValue(key);
    if (v == null && !required) return null;
    if (!(v instanceof JsonObject o)) throw ServiceError.badRequest(key + " must be an object");
    return o;
  }

  private static String string(JsonObject j, String key, String field, boolean required) {
    Object v = j.getValue(key);
    if (v == null && !required) return null;
    if (!(v instanceof String s)) throw ServiceError.badRequest(field + (v == null ? " is required" : " must be a string"));
    return s;
  }

  private static List<String> strings(Object v, String field) {
    if (v == null) return List.of();
    if (!(v instanceof JsonArray a)) throw ServiceError.badRequest(field + " must be an array of strings");
    List<String> out = new ArrayList<>(a.size());
    for (Object o : a) {
      if (!(o instanceof String s)) throw ServiceError.badRequest(field + " must hold only strings, got " + o);
      out.add(s);
    }
    return out;
  }

  private static boolean bool(Object v, String field) {
    if (v == null) return false;
    if (!(v instanceof Boolean b)) throw ServiceError.badRequest(field + " must be true or false, got " + v);
    return b;
  }

  private static long whole(Object v, String field, long min, long max, long absent) {
    if (v == null) return absent;
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw ServiceError.badRequest(field + " must be a whole number, got " + v);
    }
    if (n.doubleValue() < min || n.doubleValue() > max) {
      throw ServiceError.badRequest(field + " must be between " + min + " and " + max + ", got " + v);
    }
    return n.longValue();
  }
}
