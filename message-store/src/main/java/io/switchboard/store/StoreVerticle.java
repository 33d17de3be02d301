package io.switchboard.store;

import io.switchboard.common.Addresses;
import io.switchboard.common.BusReplies;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Fanout;
import io.switchboard.common.Namespaces;
import io.switchboard.common.Publication;
import io.switchboard.common.PublicationCodec;
import io.switchboard.common.RedisConnector;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The message-store service on the event bus. Engine from {@code engine} (memory | redis), namespace options from
 * {@code channels}, limits from {@code store}. Every request is a JSON object; failures are {@link ServiceError}s,
 * and every request is answered ({@link BusReplies}). Client values ({@code publication.data}) nested deeper than
 * {@link io.switchboard.common.Defaults#MAX_JSON_DEPTH} are refused with {@code bad_request}.
 *
 * <ul>
 *   <li>{@code store.append} {@code {publication:{channel, event, data?, source?:{type,id?}, priority?, tags?, ttl?,
 *       requiresAck?, correlationId?}, idempotencyKey?}} → {@code {id, offset, epoch, timestamp, duplicate?:true}}.
 *       A stored (not duplicate) publication is then sent by {@link Fanout} to every gateway node with
 *       subscribers of its channel, in offset order per channel.
 *   <li>{@code store.append.batch} {@code {publications:[{publication, idempotencyKey?, exclude?}…]}} →
 *       {@code {results:[{id, offset, epoch, timestamp, duplicate?} | {error:{code, message}}…]}}: the same per entry,
 *       in array order, each entry answered alone (see {@link Addresses#STORE_APPEND_BATCH}).
 *   <li>{@code store.position} {@code {channels:[channel | {channel, recover?:{offset, epoch}}]}} →
 *       {@code {channels:[{channel, offset, epoch, recovered?, publications?, more?, next?} | {channel,
 *       error:{code, message}}]}}, one entry per requested channel in request order; {@code recovered}/{@code
 *       publications} only when recovery was asked ({@code recovered:false} when the namespace has recovery off).
 *       The publications of the whole answer are bounded by {@code store.maxHistoryBytes}; see
 *       {@link io.switchboard.common.Addresses#STORE_POSITION} for {@code more}/{@code next}.
 *   <li>{@code store.history} {@code {channel, since?:{offset,epoch}, sinceTime?, limit?, reverse?, filter?:{priority[],
 *       tags[], sourceType[], unacked?}, subject?}} → {@code {publications, offset, epoch, more?, next?}}; offsets at
 *       most 2^53-1, sinceTime within 1970..9999 (else {@code bad_request}).
 *   <li>{@code store.ack} {@code {channel, ids[], subject}} → {@code {acked:[ids]}}; each newly acked id is
 *       published on the fan-out as event {@code message.acked} {@code {id, by}}.
 *   <li>{@code store.pending} {@code {channel, subject, since?:{offset, epoch}}} → {@code {publications, more?,
 *       next?}}.
 * </ul>
 *
 * <p>Fan-out order: for one channel, fan-out publishes happen in offset order. Both engines complete appends in
 * offset order on this verticle's event loop (memory: synchronously; redis: one pipelined connection, see
 * {@link RedisLink}, appends batched in order by {@link RedisAppends}) and the publish happens in the completion, so deploy ONE instance per JVM (a memory engine is
 * per instance, too). Across store JVMs ordering is not guaranteed; the gateway backfills gaps from the store.
 */
public final class StoreVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(StoreVerticle.class.getName());

  private MessageStore store;
  private StoreJson json;
  private int maxPositionChannels;
  private int maxAnswerBytes;

  @Override
  public Future<?> start() {
    JsonObject cfg = config();
    StoreSettings settings = StoreSettings.fromConfig(cfg.getJsonObject("store"));
    json = new StoreJson(Namespaces.fromConfig(cfg.getJsonObject("channels")), settings);
    JsonObject gateway = cfg.getJsonObject("gateway", new JsonObject());
    maxPositionChannels = Math.max(1000, gateway.getInteger("maxSubscriptions", 0));
    store = "redis".equals(cfg.getString("engine", "memory"))
        ? new RedisMessageStore(RedisConnector.create(vertx, cfg.getJsonObject("redis")), settings)
        : new MemoryMessageStore(vertx, settings);
    maxAnswerBytes = settings.maxHistoryBytes();
    EventBus bus = vertx.eventBus();
    PublicationCodec.register(bus);
    // every consumer answers whatever happens (BusReplies): a ServiceError, or internal with one log line
    return Future.all(List.of(
        BusReplies.serve(bus, Addresses.STORE_APPEND, this::append).completion(),
        BusReplies.serve(bus, Addresses.STORE_APPEND_BATCH, this::appendBatch).completion(),
        BusReplies.serve(bus, Addresses.STORE_POSITION, this::position).completion(),
        BusReplies.serve(bus, Addresses.STORE_HEADS, this::heads).completion(),
        BusReplies.serve(bus, Addresses.STORE_HISTORY, this::history).completion(),
        BusReplies.serve(bus, Addresses.STORE_ACK, this::ack).completion(),
        BusReplies.serve(bus, Addresses.STORE_PENDING, this::pending).completion()));
  }

  @Override
  public Future<?> stop() {
    return store == null ? Future.succeededFuture() : store.close();
  }

  private Future<JsonObject> append(Message<Object> msg) {
    return append(StoreJson.body(msg.body()));
  }

  /**
   * {@code store.append.batch}: each entry appended as by {@code store.append}, in array order (both engines queue
   * appends in call order, so one channel's entries get ascending offsets in array order), each answered alone: an
   * entry's failure (bad input, rate limit, Redis error) is its own {@code {error}} entry, never the request's.
   */
  private Future<JsonObject> appendBatch(Message<Object> msg) {
    Object entries = StoreJson.body(msg.body()).getValue("publications");
    if (!(entries instanceof JsonArray list) || list.isEmpty()) {
      throw ServiceError.badRequest("publications must be a non-empty array");
    }
    if (list.size() > Addresses.STORE_APPEND_BATCH_MAX) {
      throw ServiceError.badRequest("publications has " + list.size() + " entries, more than the maximum "
          + Addresses.STORE_APPEND_BATCH_MAX);
    }
    List<Future<JsonObject>> outcomes = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      Future<JsonObject> outcome;
      try {
        if (!(list.getValue(i) instanceof JsonObject entry)) {
          throw ServiceError.badRequest("publications[" + i + "] must be an object");
        }
        outcome = append(entry);
      } catch (RuntimeException | StackOverflowError e) {
        outcome = Future.failedFuture(e);
      }
      outcomes.add(outcome);
    }
    return Future.join(outcomes).transform(all -> {
      JsonArray results = new JsonArray(new ArrayList<>(outcomes.size()));
      for (Future<JsonObject> f : outcomes) {
        results.add(f.succeeded() ? f.result() : new JsonObject().put("error", errorOf(f.cause()).toJson()));
      }
      return Future.succeededFuture(new JsonObject().put("results", results));
    });
  }

  /** An entry's failure as the client sees it: a ServiceError unchanged, anything else internal (logged once). */
  private static ServiceError errorOf(Throwable t) {
    if (t instanceof ServiceError e) return e;
    LOG.log(System.Logger.Level.WARNING,
        Addresses.STORE_APPEND_BATCH + " entry failed unexpectedly: " + t);
    return new ServiceError(ErrorCode.INTERNAL, Addresses.STORE_APPEND_BATCH + " failed: internal error");
  }

  private Future<JsonObject> append(JsonObject req) {
    Publication p = json.publication(req);
    String key = StoreJson.idempotencyKey(req);
    return store.append(p, json.target(p.channel(), "publication.channel").options(), key).map(r -> {
      // in the completion: appends complete in offset order, so fan-out happens in offset order
      // {exclude}: a client the fan-out skips (routing only, never stored)
      if (!r.duplicate()) {
        String exclude = req.getValue("exclude") instanceof String x ? x : null;
        Fanout.of(vertx).publish(exclude == null ? r.publication() : r.publication().withExclude(exclude));
      }
      return StoreJson.appended(r);
    });
  }

  /** The {@code channels} array of a position or heads request, at most maxPositionChannels long. */
  private JsonArray channelList(Message<Object> msg) {
    Object channels = StoreJson.body(msg.body()).getValue("channels");
    if (!(channels instanceof JsonArray list)) throw ServiceError.badRequest("channels must be an array");
    if (list.size() > maxPositionChannels) {
      throw ServiceError.badRequest("channels has " + list.size() + " entries, more than the maximum " + maxPositionChannels);
    }
    return list;
  }

  private Future<JsonObject> position(Message<Object> msg) {
    JsonArray list = channelList(msg);
    List<Future<JsonObject>> answers = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) answers.add(positionOf(list.getValue(i), "channels[" + i + "]"));
    return Future.all(answers).map(all -> {
      List<JsonObject> entries = all.list();
      bound(entries);
      return new JsonObject().put("channels", new JsonArray(new ArrayList<>(entries)));
    });
  }

  /**
   * Keeps the recovered publications of ALL channels of one answer within store.maxHistoryBytes (each engine bounds
   * one channel; a subscribe to many channels is written to one connection at once): in request order, a channel
   * whose publications no longer fit keeps those that do and says {@code more:true, next} (see
   * {@link io.switchboard.common.Addresses#STORE_POSITION}).
   */
  private void bound(List<JsonObject> entries) {
    long withPublications = entries.stream().filter(e -> !e.getJsonArray("publications", new JsonArray()).isEmpty()).count();
    if (withPublications <= 1) {
      // one channel's recovery is already bounded by its engine: no need to measure it again
      for (JsonObject entry : entries) entry.remove("from");
      return;
    }
    ByteBudget budget = new ByteBudget(maxAnswerBytes);
    for (JsonObject entry : entries) {
      JsonArray pubs = entry.getJsonArray("publications");
      if (pubs == null || pubs.isEmpty()) continue;
      JsonArray kept = new JsonArray();
      for (int i = 0; i < pubs.size(); i++) {
        JsonObject p = pubs.getJsonObject(i);
        if (!budget.take(p.toBuffer().length())) break;
        kept.add(p);
      }
      if (kept.size() == pubs.size()) continue;
      entry.put("publications", kept);
      if (!entry.containsKey("more")) {
        // next: after the last kept publication, else where the client asked to recover from
        long after = kept.isEmpty() ? entry.getLong("from") : kept.getJsonObject(kept.size() - 1).getLong("offset");
        StoreJson.more(entry, new Position(after, entry.getString("epoch")));
      } else if (!kept.isEmpty()) {
        JsonObject last = kept.getJsonObject(kept.size() - 1);
        entry.getJsonObject("next").put("offset", last.getLong("offset"));
      } else {
        entry.getJsonObject("next").put("offset", entry.getLong("from"));
      }
    }
    for (JsonObject entry : entries) entry.remove("from");
  }

  /** One channel's answer; its failure is reported in its own entry, never failing the whole request. */
  private Future<JsonObject> positionOf(Object item, String field) {
    Object name = item instanceof JsonObject o ? o.getValue("channel") : item;
    String channel = name instanceof String s ? s : String.valueOf(name);
    Future<JsonObject> answer;
    try {
      StoreJson.Target t = json.target(name, field + ".channel");
      Object recover = item instanceof JsonObject o ? o.getValue("recover") : null;
      if (recover == null) {
        answer = store.position(channel, t.options()).map(p -> positioned(channel, p.offset(), p.epoch()));
      } else {
        Position since = StoreJson.position(recover, field + ".recover");
        answer = t.options().recovery()
            ? store.recover(channel, since.offset(), since.epoch(), t.options()).map(r -> recovered(channel, r, since))
            : store.position(channel, t.options()).map(p -> positioned(channel, p.offset(), p.epoch())
                .put("recovered", false).put("publications", new JsonArray()));
      }
    } catch (RuntimeException e) {
      answer = Future.failedFuture(e);
    }
    return answer.recover(t -> Future.succeededFuture(StoreJson.error(channel, ServiceError.from(t, "message store"))));
  }

  /** Heads of many channels (the gateway's tail check); channels of ephemeral or unconfigured namespaces have none. */
  private Future<JsonObject> heads(Message<Object> msg) {
    JsonArray list = channelList(msg);
    List<String> names = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      String channel = json.storedChannel(list.getValue(i), "channels[" + i + "]");
      if (channel != null) names.add(channel);
    }
    return store.heads(names).map(heads -> {
      JsonArray out = new JsonArray();
      for (int i = 0; i < names.size(); i++) {
        Position head = heads.get(i);
        if (head != null) out.add(positioned(names.get(i), head.offset(), head.epoch()));
      }
      return new JsonObject().put("channels", out);
    });
  }

  /** A recovery entry; {@code from} (the client's offset) is kept until {@link #bound} has run. */
  private static JsonObject recovered(String channel, Recovery r, Position since) {
    JsonObject entry = positioned(channel, r.offset(), r.epoch()).put("recovered", r.recovered())
        .put("publications", StoreJson.publications(r.publications())).put("from", since.offset());
    return StoreJson.more(entry, r.more() ? r.next(since.offset()) : null);
  }

  private static JsonObject positioned(String channel, long offset, String epoch) {
    return new JsonObject().put("channel", channel).put("offset", offset).put("epoch", epoch);
  }

  private Future<JsonObject> history(Message<Object> msg) {
    return store.history(json.history(StoreJson.body(msg.body()))).map(StoreJson::historyPage);
  }

  private Future<JsonObject> ack(Message<Object> msg) {
    JsonObject req = StoreJson.body(msg.body());
    String channel = json.target(req.getValue("channel"), "channel").channel();
    List<String> ids = json.ackIds(req);
    String subject = StoreJson.subject(req);
    return store.ack(channel, ids, subject).map(r -> {
      for (String id : r.newlyAcked()) {
        JsonObject data = new JsonObject().put("id", id).put("by", subject);
        Fanout.of(vertx).publish(Publication.event(channel, "message.acked", data));
      }
      return new JsonObject().put("acked", new JsonArray(r.acked()));
    });
  }

  private Future<JsonObject> pending(Message<Object> msg) {
    JsonObject req = StoreJson.body(msg.body());
    String channel = json.target(req.getValue("channel"), "channel").channel();
    return store.pending(channel, StoreJson.subject(req), StoreJson.pendingSince(req)).map(StoreJson::pendingPage);
  }
}
