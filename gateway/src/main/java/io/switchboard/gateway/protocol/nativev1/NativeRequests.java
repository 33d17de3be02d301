package io.switchboard.gateway.protocol.nativev1;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.Priority;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.core.ChannelOps;
import io.switchboard.gateway.core.Params;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.Subscriptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Native v1 requests read into the core's typed commands, and the core's answers written as native JSON. Every
 * field check names the field (see {@link Params}).
 */
public final class NativeRequests {
  static final int MAX_TAGS = 32;
  static final int MAX_TAG_LENGTH = 64;
  private static final long MAX_TTL = 10L * 365 * 24 * 3600;

  private NativeRequests() {}

  // --- subscribe ------------------------------------------------------------------------------------

  static void subscribe(Session s, String id, Object channels) {
    if (!(channels instanceof JsonArray list) || list.isEmpty()) {
      throw ServiceError.badRequest("channels must be a non-empty array of channel names or {channel, recover}");
    }
    s.loop.subscriptions.checkBatch(list.size());
    JsonObject[] answers = new JsonObject[list.size()];
    List<Subscriptions.Request> wanted = new ArrayList<>();
    List<Integer> wantedAt = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Object entry = list.getValue(i);
      try {
        wanted.add(request(entry));
        wantedAt.add(i);
      } catch (ServiceError e) {
        answers[i] = new JsonObject().put("channel", nameOf(entry)).put("ok", false).put("error", e.toJson());
      }
    }
    s.loop.subscriptions.subscribe(s, wanted).onComplete(ar -> {
      Subscriptions.Established est = ar.result(); // subscribe never fails: errors are per channel
      JsonArray done = outcomes(est);
      for (int k = 0; k < wantedAt.size(); k++) answers[wantedAt.get(k)] = done.getJsonObject(k);
      NativeDialect.reply(s, id, new JsonObject().put("channels", new JsonArray(List.of((Object[]) answers))));
      s.loop.subscriptions.goLive(s, est);
    });
  }

  private static String nameOf(Object entry) {
    if (entry instanceof String s) return s;
    if (entry instanceof JsonObject o && o.getValue("channel") instanceof String s) return s;
    return null;
  }

  /** One entry of a subscribe frame: a name or {channel, recover:{offset, epoch}}. */
  private static Subscriptions.Request request(Object entry) {
    if (entry instanceof String name) return new Subscriptions.Request(name, null, null);
    if (!(entry instanceof JsonObject o)) throw ServiceError.badRequest("each channel must be a name or {channel, recover}");
    String channel = Params.string(o, "channel", true, Integer.MAX_VALUE);
    JsonObject recover = Params.object(o, "recover", false);
    if (recover == null) return new Subscriptions.Request(channel, null, null);
    return recovery(channel, recover, "recover");
  }

  private static Subscriptions.Request recovery(String channel, JsonObject recover, String field) {
    if (!recover.containsKey("offset")) throw ServiceError.badRequest(field + ".offset is required");
    long offset = Params.integer(recover, "offset", 0, 0, Long.MAX_VALUE);
    String epoch = Params.string(recover, "epoch", true, 64);
    return new Subscriptions.Request(channel, offset, epoch);
  }

  /** {@code connect} params may carry {@code recover} for the personal channel. */
  static Subscriptions.Request personalRecovery(JsonObject params) {
    JsonObject recover = Params.object(params, "recover", false);
    return recover == null ? null : recovery(null, recover, "recover");
  }

  /** The native answer per channel: {channel, ok, offset?, epoch?, recovered?} or {channel, ok:false, error}. */
  public static JsonArray outcomes(Subscriptions.Established est) {
    JsonArray out = new JsonArray();
    for (Subscriptions.Outcome o : est.outcomes()) out.add(outcome(o));
    return out;
  }

  /** One channel's answer: {channel, ok, offset?, epoch?, recovered?} or {channel, ok:false, error}. */
  public static JsonObject outcome(Subscriptions.Outcome o) {
    JsonObject a = new JsonObject().put("channel", o.channel());
    if (!o.ok()) return a.put("ok", false).put("error", o.error().toJson());
    a.put("ok", true);
    if (o.stored()) a.put("offset", o.offset()).put("epoch", o.epoch());
    if (o.recovered() != null) a.put("recovered", o.recovered());
    return a;
  }

  /** The unsubscribe list is bounded like a subscribe list: its answer grows with it. */
  static void unsubscribe(Session s, String id, Object channels) {
    if (!(channels instanceof JsonArray list) || list.isEmpty()) {
      throw ServiceError.badRequest("channels must be a non-empty array of channel names");
    }
    if (list.size() > s.loop.cfg.maxSubscriptions()) {
      throw new ServiceError(ErrorCode.LIMIT_EXCEEDED, "at most " + s.loop.cfg.maxSubscriptions() + " channels per unsubscribe");
    }
    List<String> names = new ArrayList<>();
    List<Integer> at = new ArrayList<>();
    JsonObject[] answers = new JsonObject[list.size()];
    for (int i = 0; i < list.size(); i++) {
      if (list.getValue(i) instanceof String channel) {
        names.add(channel);
        at.add(i);
      } else {
        answers[i] = new JsonObject().put("channel", (String) null).put("ok", false)
            .put("error", ServiceError.badRequest("each channel must be a name").toJson());
      }
    }
    List<ServiceError> errors = s.loop.subscriptions.unsubscribe(s, names);
    for (int k = 0; k < names.size(); k++) {
      ServiceError e = errors.get(k);
      JsonObject a = new JsonObject().put("channel", names.get(k)).put("ok", e == null);
      if (e != null) a.put("error", e.toJson());
      answers[at.get(k)] = a;
    }
    NativeDialect.reply(s, id, new JsonObject().put("channels", new JsonArray(List.of((Object[]) answers))));
  }

  // --- channel requests -----------------------------------------------------------------------------

  static Future<JsonObject> publish(Session s, JsonObject p) {
    return s.loop.ops.publish(s, s.app, publishCommand(p));
  }

  /** A native {@code publish} params object as the core's command (the REST and server APIs take the same fields). */
  public static ChannelOps.PublishCommand publishCommand(JsonObject p) {
    String channel = Params.channel(p);
    String event = Params.string(p, "event", true, 128);
    String priorityName = Params.string(p, "priority", false, 16);
    Priority priority = priorityName == null ? Priority.NORMAL : Priority.parse(priorityName);
    if (priority == null) throw ServiceError.badRequest("priority must be one of critical, high, normal, low");
    List<String> tags = Params.strings(p, "tags", MAX_TAGS, MAX_TAG_LENGTH);
    int ttl = (int) Params.integer(p, "ttl", 0, 0, MAX_TTL);
    boolean requiresAck = Params.bool(p, "requiresAck", false);
    String correlationId = Params.string(p, "correlationId", false, 256);
    String idempotencyKey = Params.string(p, "idempotencyKey", false, 256);
    return new ChannelOps.PublishCommand(channel, event, p.getValue("data"), priority, tags, ttl, requiresAck,
        correlationId, idempotencyKey);
  }

  static Future<JsonObject> history(Session s, JsonObject p) {
    return s.loop.ops.history(s, s.app, historyQuery(p, s.loop.cfg.maxHistoryLimit()));
  }

  /** A native {@code history} params object as the core's query (the REST and server APIs take the same fields). */
  public static ChannelOps.HistoryQuery historyQuery(JsonObject p, int max) {
    String channel = Params.channel(p);
    Long sinceOffset = null;
    String sinceEpoch = null;
    JsonObject since = Params.object(p, "since", false);
    if (since != null) {
      if (!since.containsKey("offset")) throw ServiceError.badRequest("since.offset is required");
      sinceOffset = Params.integer(since, "offset", 0, 0, Long.MAX_VALUE);
      sinceEpoch = Params.string(since, "epoch", true, 64);
    }
    Object sinceTime = p.getValue("sinceTime");
    int limit = (int) Params.integer(p, "limit", max, 1, max);
    boolean reverse = Params.bool(p, "reverse", false);
    JsonObject filter = Params.object(p, "filter", false);
    return new ChannelOps.HistoryQuery(channel, sinceOffset, sinceEpoch,
        sinceTime == null ? null : epochMillis(sinceTime), limit, reverse, filter == null ? null : checkFilter(filter));
  }

  private static JsonObject checkFilter(JsonObject f) {
    JsonObject out = new JsonObject();
    List<String> priorities = Params.strings(f, "priority", 4, 16);
    if (priorities != null) {
      for (String s : priorities) {
        if (Priority.parse(s) == null) throw ServiceError.badRequest("filter.priority has '" + s + "', not one of critical, high, normal, low");
      }
      out.put("priority", new JsonArray(priorities));
    }
    List<String> tags = Params.strings(f, "tags", MAX_TAGS, MAX_TAG_LENGTH);
    if (tags != null) out.put("tags", new JsonArray(tags));
    List<String> sourceTypes = Params.strings(f, "sourceType", 16, 64);
    if (sourceTypes != null) out.put("sourceType", new JsonArray(sourceTypes));
    if (Params.bool(f, "unacked", false)) out.put("unacked", true);
    return out;
  }

  /** An ISO-8601 instant or epoch milliseconds, within the range an Instant can hold. */
  static long epochMillis(Object v) {
    if (v instanceof Number n) {
      if (n.doubleValue() != Math.rint(n.doubleValue()) || Math.abs(n.doubleValue()) > 8.64e15) {
        throw ServiceError.badRequest("sinceTime must be whole epoch milliseconds within ±8.64e15");
      }
      return n.longValue();
    }
    if (v instanceof String s) {
      try {
        return Instant.parse(s).toEpochMilli();
      } catch (DateTimeException | ArithmeticException e) {
        throw ServiceError.badRequest("sinceTime must be an ISO-8601 instant (e.g. 2026-11-21T10:30:00Z) or epoch milliseconds, in range");
      }
    }
    throw ServiceError.badRequest("sinceTime must be an ISO-8601 instant or epoch milliseconds");
  }

  static Future<JsonObject> presence(Session s, JsonObject p) {
    return s.loop.ops.presence(s, s.app, Params.channel(p));
  }

  static Future<JsonObject> setState(Session s, JsonObject p) {
    String channel = Params.channel(p);
    JsonObject state = Params.object(p, "state", true);
    return s.loop.ops.setState(s, s.app, channel, state);
  }

  static Future<JsonObject> ack(Session s, JsonObject p) {
    String channel = Params.channel(p);
    List<String> ids = Params.strings(p, "ids", ChannelOps.MAX_ACK_IDS, 64);
    return s.loop.ops.ack(s, s.app, channel, ids);
  }

  static Future<JsonObject> pending(Session s, JsonObject p) {
    String channel = Params.channel(p);
    JsonObject since = Params.object(p, "since", false);
    if (since == null) return s.loop.ops.pending(s, s.app, channel, null, null);
    if (!since.containsKey("offset")) throw ServiceError.badRequest("since.offset is required");
    return s.loop.ops.pending(s, s.app, channel, Params.integer(since, "offset", 0, 0, Long.MAX_VALUE),
        Params.string(since, "epoch", true, 64));
  }
}
