package io.switchboard.store;

import io.switchboard.common.Addresses;
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
 * {@code channels}, limits from {@code store}. Every request is a JSON object; failures are {@link ServiceError}s.
 *
 * <ul>
 *   <li>{@code store.append} {@code {publication:{channel, event, data?, source?:{type,id?}, priority?, tags?, ttl?,
 *       requiresAck?, correlationId?}, idempotencyKey?}} → {@code {id, offset, epoch, timestamp, duplicate?:true}}.
 *       A stored (not duplicate) publication is then sent by {@link Fanout} to every gateway node with
 *       subscribers of its channel, in offset order per channel.
 *   <li>{@code store.position} {@code {channels:[channel | {channel, recover?:{offset, epoch}}]}} →
 *       {@code {channels:[{channel, offset, epoch, recovered?, publications?} | {channel, error:{code, message}}]}},
 *       one entry per requested channel in request order; {@code recovered}/{@code publications} only when recovery
 *       was asked ({@code recovered:false} when the namespace has recovery off).
 *   <li>{@code store.history} {@code {channel, since?:{offset,epoch}, sinceTime?, limit?, reverse?, filter?:{priority[],
 *       tags[], sourceType[], unacked?}, subject?}} → {@code {publications, offset, epoch}}.
 *   <li>{@code store.ack} {@code {channel, ids[], subject}} → {@code {acked:[ids]}}; each newly acked id is
 *       published on the fan-out as event {@code message.acked} {@code {id, by}}.
 *   <li>{@code store.pending} {@code {channel, subject}} → {@code {publications}}.
 * </ul>
 *
 * <p>Fan-out order: for one channel, fan-out publishes happen in offset order. Both engines complete appends in
 * offset order on this verticle's event loop (memory: synchronously; redis: one pipelined connection, see
 * {@link RedisLink}) and the publish happens in the completion, so deploy ONE instance per JVM (a memory engine is
 * per instance, too). Across store JVMs ordering is not guaranteed; the gateway backfills gaps from the store.
 */
public final class StoreVerticle extends VerticleBase {
  private MessageStore store;
  private StoreJson json;
  private int maxPositionChannels;

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
    EventBus bus = vertx.eventBus();
    PublicationCodec.register(bus);
    return Future.all(List.of(
        bus.consumer(Addresses.STORE_APPEND, this::append).completion(),
        bus.consumer(Addresses.STORE_POSITION, this::position).completion(),
        bus.consumer(Addresses.STORE_HISTORY, this::history).completion(),
        bus.consumer(Addresses.STORE_ACK, this::ack).completion(),
        bus.consumer(Addresses.STORE_PENDING, this::pending).completion()));
  }

  @Override
  public Future<?> stop() {
    return store == null ? Future.succeededFuture() : store.close();
  }

  private void append(Message<Object> msg) {
    answer(msg, () -> {
      JsonObject req = StoreJson.body(msg.body());
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
    });
  }

  private void position(Message<Object> msg) {
    answer(msg, () -> {
      Object channels = StoreJson.body(msg.body()).getValue("channels");
      if (!(channels instanceof JsonArray list)) throw ServiceError.badRequest("channels must be an array");
      if (list.size() > maxPositionChannels) {
        throw ServiceError.badRequest("channels has " + list.size() + " entries, more than the maximum " + maxPositionChannels);
      }
      List<Future<JsonObject>> answers = new ArrayList<>(list.size());
      for (int i = 0; i < list.size(); i++) answers.add(positionOf(list.getValue(i), "channels[" + i + "]"));
      return Future.all(answers).map(all -> new JsonObject().put("channels", new JsonArray(all.list())));
    });
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
            ? store.recover(channel, since.offset(), since.epoch(), t.options()).map(r -> positioned(channel, r.offset(),
                r.epoch()).put("recovered", r.recovered()).put("publications", StoreJson.publications(r.publications())))
            : store.position(channel, t.options()).map(p -> positioned(channel, p.offset(), p.epoch())
                .put("recovered", false).put("publications", new JsonArray()));
      }
    } catch (RuntimeException e) {
      answer = Future.failedFuture(e);
    }
    return answer.recover(t -> Future.succeededFuture(StoreJson.error(channel, ServiceError.from(t, "message store"))));
  }

  private static JsonObject positioned(String channel, long offset, String epoch) {
    return new JsonObject().put("channel", channel).put("offset", offset).put("epoch", epoch);
  }

  private void history(Message<Object> msg) {
    answer(msg, () -> store.history(json.history(StoreJson.body(msg.body()))).map(page -> new JsonObject()
        .put("publications", StoreJson.publications(page.publications()))
        .put("offset", page.offset())
        .put("epoch", page.epoch())));
  }

  private void ack(Message<Object> msg) {
    answer(msg, () -> {
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
    });
  }

  private void pending(Message<Object> msg) {
    answer(msg, () -> {
      JsonObject req = StoreJson.body(msg.body());
      String channel = json.target(req.getValue("channel"), "channel").channel();
      return store.pending(channel, StoreJson.subject(req))
          .map(pubs -> new JsonObject().put("publications", StoreJson.publications(pubs)));
    });
  }

  /** Replies with the operation's result, or fails the request with its ServiceError (parse errors included). */
  private static void answer(Message<Object> msg, java.util.function.Supplier<Future<JsonObject>> op) {
    Future<JsonObject> f;
    try {
      f = op.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onSuccess(msg::reply).onFailure(t -> ServiceError.failReply(msg, t));
  }
}
