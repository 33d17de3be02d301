package io.switchboard.gateway;

import io.switchboard.common.Addresses;
import io.switchboard.common.Capability;
import io.switchboard.common.Channels;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Subscribe and unsubscribe, answered per channel (never all-or-nothing), with recovery.
 *
 * <p>Ordering invariant: a new subscription joins the hub BEFORE its position is read from the store, so nothing
 * published in between is missed; until the answer is written it only holds what arrives. Then, in order: the
 * subscribe answer, the recovered publications, the held ones newer than the position. See {@link Subscription}.
 */
final class SubscribeFlow {
  /** The outcome of establishing a batch of subscriptions: the per-channel answers and what to release. */
  record Established(JsonArray results, List<Ready> ready) {}

  /** A subscription that succeeded, with what recovery found for it. */
  record Ready(Subscription sub, long offset, String epoch, long recoverFrom, List<Publication> recovered) {}

  private record Wanted(String channel, NamespaceOptions options, JsonObject recover) {}

  private final NativeSession session;
  private final GatewayVerticle gw;
  private final ClientConnection c;

  SubscribeFlow(NativeSession session) {
    this.session = session;
    this.gw = session.gw;
    this.c = session.c;
  }

  void subscribe(String id, Object channels) {
    if (!(channels instanceof JsonArray list) || list.isEmpty()) {
      throw ServiceError.badRequest("channels must be a non-empty array of channel names or {channel, recover}");
    }
    if (list.size() > gw.cfg.maxSubscriptions()) {
      throw new ServiceError(ErrorCode.LIMIT_EXCEEDED, "at most " + gw.cfg.maxSubscriptions() + " channels per connection");
    }
    JsonObject[] answers = new JsonObject[list.size()];
    List<Wanted> wanted = new ArrayList<>();
    List<Integer> wantedAt = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String name = nameOf(list.getValue(i));
      try {
        Wanted w = check(list.getValue(i), seen);
        if (c.subscriptions.size() + wanted.size() >= gw.cfg.maxSubscriptions()) {
          throw new ServiceError(ErrorCode.LIMIT_EXCEEDED, "at most " + gw.cfg.maxSubscriptions() + " subscriptions per connection");
        }
        seen.add(w.channel);
        wanted.add(w);
        wantedAt.add(i);
      } catch (ServiceError e) {
        answers[i] = new JsonObject().put("channel", name).put("ok", false).put("error", e.toJson());
      }
    }
    establish(wanted).onComplete(ar -> {
      Established est = ar.result(); // establish never fails: errors are per channel
      for (int k = 0; k < wantedAt.size(); k++) answers[wantedAt.get(k)] = est.results().getJsonObject(k);
      session.reply(id, new JsonObject().put("channels", new JsonArray(List.of((Object[]) answers))));
      goLive(est);
    });
  }

  private static String nameOf(Object entry) {
    if (entry instanceof String s) return s;
    if (entry instanceof JsonObject o && o.getValue("channel") instanceof String s) return s;
    return null;
  }

  /** Validates one entry of a subscribe frame; throws the per-channel error. */
  private Wanted check(Object entry, Set<String> seen) {
    String channel;
    JsonObject recover = null;
    if (entry instanceof String s) {
      channel = s;
    } else if (entry instanceof JsonObject o) {
      channel = Params.string(o, "channel", true, Integer.MAX_VALUE);
      recover = Params.object(o, "recover", false);
      if (recover != null) {
        Params.integer(recover, "offset", 0, 0, Long.MAX_VALUE);
        if (!recover.containsKey("offset")) throw ServiceError.badRequest("recover.offset is required");
        Params.string(recover, "epoch", true, 64);
      }
    } else {
      throw ServiceError.badRequest("each channel must be a name or {channel, recover}");
    }
    Params.checkChannel(channel);
    NamespaceOptions options = gw.cfg.namespaces().of(channel);
    if (options == null) throw new ServiceError(ErrorCode.UNKNOWN_CHANNEL, "unknown namespace '" + Channels.namespace(channel) + "'");
    if (c.subscriptions.containsKey(channel) || seen.contains(channel)) {
      throw new ServiceError(ErrorCode.ALREADY_SUBSCRIBED, "already subscribed to " + channel);
    }
    if (!Channels.nameAllowsSubscriber(channel, c.subject())) {
      throw new ServiceError(ErrorCode.PERMISSION_DENIED, channel + " is limited to other subjects");
    }
    if (!c.claims.grants().allows(channel, Capability.SUBSCRIBE)) {
      throw new ServiceError(ErrorCode.PERMISSION_DENIED, "no subscribe grant for " + channel);
    }
    return new Wanted(channel, options, recover);
  }

  /** The server-side subscription to {@code user:<subject>} made at connect. */
  Future<Established> subscribePersonal(JsonObject recover) {
    String channel = Channels.personal(c.subject());
    NamespaceOptions options = gw.cfg.namespaces().of(channel);
    if (!Channels.isValid(channel) || options == null) return Future.succeededFuture(new Established(new JsonArray(), List.of()));
    return establish(List.of(new Wanted(channel, options, recover)));
  }

  /**
   * Joins the hub, asks the store for positions (and recovery) in ONE request, joins presence in one message.
   * Never fails: a store failure becomes a per-channel {@code unavailable} answer.
   */
  private Future<Established> establish(List<Wanted> wanted) {
    if (wanted.isEmpty()) return Future.succeededFuture(new Established(new JsonArray(), List.of()));
    List<Subscription> subs = new ArrayList<>();
    JsonArray storeReq = new JsonArray();
    for (Wanted w : wanted) {
      Subscription s = new Subscription(w.channel, c, w.options.presence());
      c.subscriptions.put(w.channel, s);
      gw.hub.add(s);
      subs.add(s);
      if (!w.options.ephemeral()) {
        JsonObject q = new JsonObject().put("channel", w.channel);
        if (w.recover != null && w.options.recovery()) q.put("recover", w.recover);
        storeReq.add(q);
      }
    }
    Future<JsonObject> positions = storeReq.isEmpty()
        ? Future.succeededFuture(new JsonObject().put("channels", new JsonArray()))
        : gw.bus.<JsonObject>request(Addresses.STORE_POSITION, new JsonObject().put("channels", storeReq), timeout())
            .map(m -> m.body());
    return positions.transform(ar -> {
      Map<String, JsonObject> byChannel = new java.util.HashMap<>();
      if (ar.succeeded()) {
        for (Object o : ar.result().getJsonArray("channels", new JsonArray())) {
          JsonObject p = (JsonObject) o;
          byChannel.put(p.getString("channel"), p);
        }
      }
      ServiceError storeError = ar.failed() ? ServiceError.from(ar.cause(), "message store") : null;
      JsonArray results = new JsonArray();
      List<Ready> ready = new ArrayList<>();
      JsonArray presenceChannels = new JsonArray();
      for (int i = 0; i < wanted.size(); i++) {
        Wanted w = wanted.get(i);
        Subscription s = subs.get(i);
        JsonObject answer = new JsonObject().put("channel", w.channel);
        if (c.subscriptions.get(w.channel) != s) {
          // unsubscribed or disconnected while we waited
          results.add(answer.put("ok", false).put("error", new ServiceError(ErrorCode.NOT_SUBSCRIBED, "unsubscribed before the subscribe completed").toJson()));
          continue;
        }
        if (w.options.ephemeral()) {
          results.add(answer.put("ok", true));
          ready.add(new Ready(s, 0, null, 0, List.of()));
        } else {
          JsonObject p = byChannel.get(w.channel);
          ServiceError err = storeError != null ? storeError
              : p == null ? new ServiceError(ErrorCode.INTERNAL, "store gave no position for " + w.channel)
              : p.containsKey("error") ? channelError(p.getJsonObject("error"))
              : null;
          if (err != null) {
            drop(s);
            results.add(answer.put("ok", false).put("error", err.toJson()));
            continue;
          }
          long offset = p.getLong("offset", 0L);
          String epoch = p.getString("epoch");
          answer.put("ok", true).put("offset", offset).put("epoch", epoch);
          List<Publication> recovered = List.of();
          long from = offset;
          if (w.recover != null) {
            boolean ok = w.options.recovery() && p.getBoolean("recovered", false);
            answer.put("recovered", ok);
            if (ok) {
              from = w.recover.getLong("offset");
              recovered = new ArrayList<>();
              for (Object o : p.getJsonArray("publications", new JsonArray())) recovered.add(Publication.fromJson((JsonObject) o));
            }
          }
          results.add(answer);
          ready.add(new Ready(s, offset, epoch, from, recovered));
        }
        if (s.presence) presenceChannels.add(w.channel);
      }
      if (!presenceChannels.isEmpty()) {
        c.presence(gw.bus, Addresses.PRESENCE_JOIN, new JsonObject()
            .put("client", c.id).put("subject", c.subject()).put("node", gw.node)
            .put("info", c.claims.info()).put("channels", presenceChannels));
      }
      return Future.succeededFuture(new Established(results, ready));
    });
  }

  /** After the answer is written: recovered publications, then held ones, then live delivery. */
  void goLive(Established est) {
    for (Ready r : est.ready()) {
      Subscription s = r.sub();
      if (c.subscriptions.get(s.channel) != s || c.closing) continue;
      s.epoch = r.epoch();
      s.lastOffset = r.recoverFrom();
      for (Publication p : r.recovered()) {
        if (s.accept(p)) sendOne(p);
      }
      // the client was told the position; anything up to it that it has not recovered it does not expect
      if (s.lastOffset < r.offset()) s.lastOffset = r.offset();
      for (Publication p : s.takeHeld()) {
        if (s.accept(p)) sendOne(p);
      }
      s.live = true;
      gw.hub.positionKnown(s.channel, r.offset(), r.epoch());
    }
  }

  /** A publication for this connection only (recovered or held): encoded for it, released after queueing. */
  private void sendOne(Publication p) {
    NativeFrames.Encoded e = NativeFrames.event(p);
    c.sendEvent(e);
    e.release();
  }

  void unsubscribe(String id, Object channels) {
    if (!(channels instanceof JsonArray list) || list.isEmpty()) {
      throw ServiceError.badRequest("channels must be a non-empty array of channel names");
    }
    JsonArray answers = new JsonArray();
    JsonArray left = new JsonArray();
    for (Object o : list) {
      if (!(o instanceof String channel)) {
        answers.add(new JsonObject().put("channel", (String) null).put("ok", false)
            .put("error", ServiceError.badRequest("each channel must be a name").toJson()));
        continue;
      }
      Subscription s = c.subscriptions.get(channel);
      if (s == null) {
        answers.add(new JsonObject().put("channel", channel).put("ok", false)
            .put("error", new ServiceError(ErrorCode.NOT_SUBSCRIBED, "not subscribed to " + channel).toJson()));
        continue;
      }
      drop(s);
      if (s.presence) left.add(channel);
      answers.add(new JsonObject().put("channel", channel).put("ok", true));
    }
    leavePresence(left);
    session.reply(id, new JsonObject().put("channels", answers));
  }

  /** After a refresh: channels the new token no longer grants are unsubscribed, with a frame saying why. */
  void dropUngranted() {
    JsonArray left = new JsonArray();
    for (Subscription s : new ArrayList<>(c.subscriptions.values())) {
      if (Channels.isPersonal(s.channel)) continue;
      if (c.claims.grants().allows(s.channel, Capability.SUBSCRIBE)) continue;
      drop(s);
      if (s.presence) left.add(s.channel);
      c.send(NativeFrames.unsubscribed(s.channel, "grant revoked"));
    }
    leavePresence(left);
  }

  private static ServiceError channelError(JsonObject e) {
    ErrorCode code = ErrorCode.fromWire(e.getString("code"));
    return new ServiceError(code == null ? ErrorCode.INTERNAL : code, e.getString("message", "store error"));
  }

  private void drop(Subscription s) {
    c.subscriptions.remove(s.channel, s);
    gw.hub.remove(s);
  }

  private void leavePresence(JsonArray channels) {
    if (!channels.isEmpty()) c.presence(gw.bus, Addresses.PRESENCE_LEAVE, new JsonObject().put("client", c.id).put("channels", channels));
  }

  private DeliveryOptions timeout() {
    return new DeliveryOptions().setSendTimeout(gw.cfg.requestTimeoutMs());
  }
}
