package io.switchboard.gateway.core;

import io.switchboard.common.App;
import io.switchboard.common.Addresses;
import io.switchboard.common.Channels;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Subscribe and unsubscribe for every dialect, answered per channel (never all-or-nothing), with recovery.
 *
 * <p>Ordering invariant: a new subscription joins the hub BEFORE its position is read from the store, so nothing
 * published in between is missed; until the dialect has written the answer it only holds what arrives. Then, in
 * order ({@link #goLive}): the recovered publications, the held ones newer than the position, live delivery.
 */
public final class Subscriptions {
  /** One channel a client wants, by its app-local name, optionally recovering from a position. */
  public record Request(String channel, Long recoverOffset, String recoverEpoch) {
    public boolean recovering() {
      return recoverOffset != null;
    }
  }

  /**
   * The answer for one channel: an error, or its position ({@code stored} false for ephemeral channels) and, when
   * the client asked to recover, whether it was.
   */
  public record Outcome(String channel, ServiceError error, boolean stored, long offset, String epoch, Boolean recovered) {
    public boolean ok() {
      return error == null;
    }

    static Outcome failed(String channel, ServiceError e) {
      return new Outcome(channel, e, false, 0, null, null);
    }
  }

  /** The outcome of establishing a batch of subscriptions: per-channel outcomes, in request order, and what to release. */
  public record Established(List<Outcome> outcomes, List<Ready> ready) {
    static final Established NONE = new Established(List.of(), List.of());
  }

  /** A subscription that succeeded, with what recovery found for it. */
  record Ready(Subscription sub, long offset, String epoch, long recoverFrom, List<Publication> recovered) {}

  private record Wanted(Request request, String scoped, NamespaceOptions options) {}

  private final GatewayLoop loop;

  Subscriptions(GatewayLoop loop) {
    this.loop = loop;
  }

  /** A batch larger than the subscription limit is refused whole. */
  public void checkBatch(int size) {
    if (size > loop.cfg.maxSubscriptions()) {
      throw new ServiceError(ErrorCode.LIMIT_EXCEEDED, "at most " + loop.cfg.maxSubscriptions() + " channels per connection");
    }
  }

  /**
   * Subscribes a session to channels; never fails: every error is per channel in the outcomes. The dialect writes
   * its answer and then calls {@link #goLive}.
   */
  public Future<Established> subscribe(Session s, List<Request> requests) {
    return loop.metrics.timed(GatewayMetrics.Command.SUBSCRIBE, System.nanoTime(), subscribeBatch(s, requests));
  }

  private Future<Established> subscribeBatch(Session s, List<Request> requests) {
    Outcome[] outcomes = new Outcome[requests.size()];
    List<Wanted> wanted = new ArrayList<>();
    List<Integer> wantedAt = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    // channels the grants do not cover, which the app backend's subscribe proxy decides
    List<Integer> asked = new ArrayList<>();
    List<Future<Void>> answers = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      Request r = requests.get(i);
      try {
        NamespaceOptions options = loop.access.check(s, r.channel(), ChannelAccess.Op.SUBSCRIBE);
        want(s, r, options, i, wanted, wantedAt, seen);
      } catch (ServiceError e) {
        Future<Void> backend = ChannelAccess.noSubscribeGrant(e) ? loop.backend.subscribe(s, s.app, r.channel()) : null;
        if (backend != null) {
          asked.add(i);
          answers.add(backend);
        } else {
          outcomes[i] = Outcome.failed(r.channel(), e);
        }
      }
    }
    Future<?> decided = answers.isEmpty() ? Future.succeededFuture() : Future.join(answers).transform(ar -> Future.succeededFuture());
    return decided.compose(v -> {
      for (int k = 0; k < asked.size(); k++) {
        int i = asked.get(k);
        Request r = requests.get(i);
        Future<Void> answer = answers.get(k);
        try {
          if (answer.failed()) throw ServiceError.from(answer.cause(), "app backend");
          // allowed by the backend: the rest of the one decision still applies (names, private channels)
          want(s, r, loop.access.check(asServer(s), r.channel(), ChannelAccess.Op.SUBSCRIBE), i, wanted, wantedAt, seen);
        } catch (ServiceError e) {
          outcomes[i] = Outcome.failed(r.channel(), e);
        }
      }
      if (s.closing()) {
        // closed while the backend decided: its subscriptions were already dropped, add none now
        wanted.clear();
        wantedAt.clear();
      }
      return establish(s, wanted).map(est -> {
        for (int k = 0; k < wantedAt.size(); k++) outcomes[wantedAt.get(k)] = est.outcomes().get(k);
        for (int i = 0; i < outcomes.length; i++) {
          if (outcomes[i] == null) outcomes[i] = Outcome.failed(requests.get(i).channel(), new ServiceError(ErrorCode.NOT_SUBSCRIBED, "connection closed"));
        }
        return new Established(List.of(outcomes), est.ready());
      });
    });
  }

  /** Adds an allowed channel to a batch, unless it is a duplicate or past the subscription limit. */
  private void want(Session s, Request r, NamespaceOptions options, int at, List<Wanted> wanted, List<Integer> wantedAt, Set<String> seen) {
    String scoped = s.app.scope(r.channel());
    if (s.subscriptions.containsKey(scoped) || seen.contains(scoped)) {
      throw new ServiceError(ErrorCode.ALREADY_SUBSCRIBED, "already subscribed to " + r.channel());
    }
    if (s.subscriptions.size() + wanted.size() >= loop.cfg.maxSubscriptions()) {
      throw new ServiceError(ErrorCode.LIMIT_EXCEEDED, "at most " + loop.cfg.maxSubscriptions() + " subscriptions per connection");
    }
    seen.add(scoped);
    wanted.add(new Wanted(r, scoped, options));
    wantedAt.add(at);
  }

  /** The session as a server caller: for subscriptions the server side decided (server API, app backend). */
  private static Caller asServer(Session s) {
    return new Caller() {
      @Override
      public io.switchboard.gateway.Claims claims() {
        return s.claims();
      }

      @Override
      public String clientId() {
        return s.id;
      }

      @Override
      public boolean subscribed(String channel) {
        return s.subscribed(channel);
      }

      @Override
      public boolean server() {
        return true;
      }

      @Override
      public long takePublishToken(long now) {
        return 0;
      }
    };
  }

  /**
   * A subscription the server API makes for a live session: the backend decided, so the token's grant is not asked
   * (the caller is the session as a server), but the channel rules are the same one decision. The dialect tells
   * the client ({@link SessionProtocol#subscribed}) and then calls {@link #goLive}.
   */
  public Future<Established> subscribeByServer(Session s, Request r) {
    Caller asServer = asServer(s);
    try {
      NamespaceOptions options = loop.access.check(asServer, r.channel(), ChannelAccess.Op.SUBSCRIBE);
      String scoped = s.app.scope(r.channel());
      if (s.subscriptions.containsKey(scoped)) throw new ServiceError(ErrorCode.ALREADY_SUBSCRIBED, "already subscribed to " + r.channel());
      if (s.subscriptions.size() >= loop.cfg.maxSubscriptions()) {
        throw new ServiceError(ErrorCode.LIMIT_EXCEEDED, "at most " + loop.cfg.maxSubscriptions() + " subscriptions per connection");
      }
      return establish(s, List.of(new Wanted(r, scoped, options)));
    } catch (ServiceError e) {
      return Future.succeededFuture(new Established(List.of(Outcome.failed(r.channel(), e)), List.of()));
    }
  }

  /**
   * A subscription of a subscriber that stands for callers who were each allowed through {@link ChannelAccess}
   * already (the long-poll hub's one subscriber per channel and event loop): no access decision here, only the
   * channel's namespace. The caller then calls {@link #goLive}.
   */
  public Future<Established> subscribeDecided(Session s, Request r) {
    NamespaceOptions options = loop.cfg.namespaces().of(r.channel());
    if (options == null) {
      return Future.succeededFuture(new Established(List.of(Outcome.failed(r.channel(),
          new ServiceError(ErrorCode.UNKNOWN_CHANNEL, "unknown namespace '" + Channels.namespace(r.channel()) + "'"))), List.of()));
    }
    return establish(s, List.of(new Wanted(r, s.app.scope(r.channel()), options)));
  }

  /**
   * Prefix of a lazy personal position's epoch: {@code ~<base-36 epoch ms>}, the moment the subscription went live
   * without reading the store. Real epochs are hex, so the two never collide.
   */
  public static final String LAZY_EPOCH = "~";
  /**
   * Tolerated clock difference between gateway and store hosts: a lazy position includes the publications stored up
   * to this long before it (at-least-once at the boundary rather than a miss).
   */
  static final long CLOCK_SKEW_MS = 1000;

  /**
   * The server-side subscription to {@code user:<subject>} made at connect (none when the name is not valid), lazy:
   * see {@link #subscribePersonal(Session, Request, boolean)}.
   */
  public Future<Established> subscribePersonal(Session s, Request recover) {
    return subscribePersonal(s, recover, false);
  }

  /**
   * The personal channel at connect. Without a position to recover from it costs no store state and no bus round
   * trip: the subscription joins the hub (so every publication reaches it) and is live at once; its position is
   * {@code offset 0} and a lazy epoch naming the moment ({@link #LAZY_EPOCH}). The store is asked only when the
   * channel is used: the first publication that arrives with an offset above 1 reads what was published since that
   * moment (ChannelHub), and a later connect that recovers from the lazy position reads the channel's history since
   * it ({@link #recoverSince}). {@code needsEpoch}: the dialect's publications carry no epoch (Centrifuge), so its
   * clients must learn the real one now — the position is read from the store as for any subscription.
   */
  public Future<Established> subscribePersonal(Session s, Request recover, boolean needsEpoch) {
    String channel = Channels.personal(s.subject());
    NamespaceOptions options = loop.cfg.namespaces().of(channel);
    if (!Channels.isValid(channel) || options == null) return Future.succeededFuture(Established.NONE);
    String scoped = s.app.scope(channel);
    if (recover != null && lazyAnchor(recover.recoverEpoch()) > 0 && !options.ephemeral() && options.recovery()) {
      return recoverSince(s, new Wanted(new Request(channel, null, null), scoped, options), lazyAnchor(recover.recoverEpoch()));
    }
    if (recover == null && !needsEpoch && !options.ephemeral()) return Future.succeededFuture(local(s, channel, scoped, options));
    Request r = recover == null ? new Request(channel, null, null) : new Request(channel, recover.recoverOffset(), recover.recoverEpoch());
    return establish(s, List.of(new Wanted(r, scoped, options)));
  }

  /** The lazy epoch of a moment. */
  static String lazyEpoch(long millis) {
    return LAZY_EPOCH + Long.toString(millis, 36);
  }

  /** The moment a lazy epoch names; 0 when {@code epoch} is not one. */
  static long lazyAnchor(String epoch) {
    if (epoch == null || !epoch.startsWith(LAZY_EPOCH) || epoch.length() < 2 || epoch.length() > 14) return 0;
    try {
      long t = Long.parseLong(epoch.substring(1), 36);
      return t > 0 ? t : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** A personal subscription live at once, without the store: see {@link #subscribePersonal(Session, Request, boolean)}. */
  private Established local(Session c, String channel, String scoped, NamespaceOptions options) {
    long now = System.currentTimeMillis();
    Subscription s = new Subscription(scoped, c, options.presence() && c.joinsPresence);
    s.since = now;
    c.subscriptions.put(scoped, s);
    loop.hub.add(s);
    if (s.presence) join(c, new JsonArray().add(scoped));
    // the ready entry has no epoch: the subscription takes the channel's from the first publication it accepts
    return new Established(List.of(new Outcome(channel, null, true, 0, lazyEpoch(now), null)),
        List.of(new Ready(s, 0, null, 0, List.of())));
  }

  /**
   * Recovery from a lazy position: everything the channel stored since its moment, read newest first in one
   * request. Recovered only when the read reaches back past the moment (a publication older than it, or the
   * epoch's first publication, stored within the history TTL after it — an older epoch that still held
   * publications after the moment would have expired later than that); otherwise the client is told
   * {@code recovered:false}, as for a position the channel no longer holds.
   */
  private Future<Established> recoverSince(Session c, Wanted w, long anchor) {
    String local = w.request.channel();
    Subscription s = new Subscription(w.scoped, c, w.options.presence() && c.joinsPresence);
    c.subscriptions.put(w.scoped, s);
    loop.hub.add(s);
    JsonObject q = new JsonObject().put("channel", w.scoped).put("reverse", true).put("limit", loop.cfg.maxHistoryLimit());
    // admitted like every subscribe read: a storm of personal recoveries waits in the gateway, not at the store
    return loop.storeReads.admitted(() -> loop.bus.<JsonObject>request(Addresses.STORE_HISTORY, q, loop.timeout())).transform(ar -> {
      if (c.subscriptions.get(w.scoped) != s) {
        return Future.succeededFuture(new Established(List.of(Outcome.failed(local,
            new ServiceError(ErrorCode.NOT_SUBSCRIBED, "unsubscribed before the subscribe completed"))), List.of()));
      }
      if (ar.failed()) {
        drop(c, s);
        return Future.succeededFuture(new Established(List.of(Outcome.failed(local, ServiceError.from(ar.cause(), "message store"))), List.of()));
      }
      JsonObject page = ar.result().body();
      long offset = page.getLong("offset", 0L);
      String epoch = page.getString("epoch");
      List<Publication> newestFirst = new ArrayList<>();
      long ttlMs = w.options.historyTtlSeconds() * 1000L;
      // an empty channel: nothing was lost unless an older epoch could have expired since the moment
      boolean reachedBack = offset == 0 && System.currentTimeMillis() <= anchor + ttlMs;
      for (Object o : page.getJsonArray("publications", new JsonArray())) {
        Publication p = Publication.fromJson((JsonObject) o);
        if (p.timestamp() < anchor - CLOCK_SKEW_MS) {
          reachedBack = true;
          break;
        }
        newestFirst.add(p);
        if (p.offset() == 1) {
          reachedBack = p.timestamp() <= anchor + ttlMs;
          break;
        }
      }
      List<Publication> recovered = new ArrayList<>(newestFirst.size());
      for (int i = newestFirst.size() - 1; i >= 0; i--) recovered.add(newestFirst.get(i));
      if (s.presence) join(c, new JsonArray().add(w.scoped));
      Ready ready = reachedBack ? new Ready(s, offset, epoch, 0, recovered) : new Ready(s, offset, epoch, offset, List.of());
      return Future.succeededFuture(new Established(List.of(new Outcome(local, null, true, offset, epoch, reachedBack)), List.of(ready)));
    });
  }

  /**
   * Joins the hub, asks the store for each channel's position (and recovery) through the loop's coalesced reads
   * ({@link StoreReads}: subscriptions of one channel waiting together share one read), joins presence in one
   * message. Never fails: a store failure becomes a per-channel {@code unavailable} outcome.
   */
  private Future<Established> establish(Session c, List<Wanted> wanted) {
    if (wanted.isEmpty()) return Future.succeededFuture(Established.NONE);
    List<Subscription> subs = new ArrayList<>();
    List<Future<StoreReads.Answer>> answers = new ArrayList<>();
    for (Wanted w : wanted) {
      Subscription s = new Subscription(w.scoped, c, w.options.presence() && c.joinsPresence);
      c.subscriptions.put(w.scoped, s);
      loop.hub.add(s);
      subs.add(s);
      if (w.options.ephemeral()) {
        answers.add(null);
      } else {
        boolean recover = w.request.recovering() && w.options.recovery();
        answers.add(loop.storeReads.read(w.scoped, recover ? w.request.recoverOffset() : null,
            recover ? w.request.recoverEpoch() : null, () -> c.subscriptions.get(w.scoped) != s));
      }
    }
    loop.storeReads.send();
    List<Future<StoreReads.Answer>> pending = new ArrayList<>();
    for (Future<StoreReads.Answer> f : answers) if (f != null) pending.add(f);
    Future<?> all = pending.isEmpty() ? Future.succeededFuture() : Future.all(pending);
    return all.map(v -> {
      List<Outcome> outcomes = new ArrayList<>();
      List<Ready> ready = new ArrayList<>();
      JsonArray presenceChannels = new JsonArray();
      for (int i = 0; i < wanted.size(); i++) {
        Wanted w = wanted.get(i);
        String local = w.request.channel();
        Subscription s = subs.get(i);
        if (c.subscriptions.get(w.scoped) != s) {
          // unsubscribed or disconnected while we waited
          outcomes.add(Outcome.failed(local, new ServiceError(ErrorCode.NOT_SUBSCRIBED, "unsubscribed before the subscribe completed")));
          continue;
        }
        if (w.options.ephemeral()) {
          outcomes.add(new Outcome(local, null, false, 0, null, null));
          ready.add(new Ready(s, 0, null, 0, List.of()));
        } else {
          StoreReads.Answer p = answers.get(i).result();
          if (p.error() != null) {
            drop(c, s);
            outcomes.add(Outcome.failed(local, p.error()));
            continue;
          }
          Boolean recoveredFlag = null;
          List<Publication> recovered = List.of();
          long from = p.offset();
          if (w.request.recovering()) {
            boolean ok = w.options.recovery() && Boolean.TRUE.equals(p.recovered());
            recoveredFlag = ok;
            loop.metrics.recover(ok);
            if (ok) {
              from = w.request.recoverOffset();
              recovered = p.publications();
            }
          }
          outcomes.add(new Outcome(local, null, true, p.offset(), p.epoch(), recoveredFlag));
          ready.add(new Ready(s, p.offset(), p.epoch(), from, recovered));
        }
        if (s.presence) presenceChannels.add(w.scoped);
      }
      join(c, presenceChannels);
      return new Established(outcomes, ready);
    });
  }

  /**
   * Joins presence: one message for every channel where the session has the same identity (all of them, unless the
   * dialect gives per-channel identities, as Pusher's channel_data does).
   */
  private void join(Session c, JsonArray channels) {
    if (channels.isEmpty()) return;
    Map<String, JsonArray> byIdentity = new java.util.LinkedHashMap<>();
    Map<String, JsonObject> infoOf = new HashMap<>();
    for (Object o : channels) {
      String ch = (String) o;
      String subject = c.protocol().presenceSubject(c, ch);
      JsonObject info = c.protocol().presenceInfo(c, ch);
      String key = subject + "\u0000" + info.encode();
      byIdentity.computeIfAbsent(key, k -> new JsonArray()).add(ch);
      infoOf.put(key, info);
    }
    for (Map.Entry<String, JsonArray> e : byIdentity.entrySet()) {
      String subject = e.getKey().substring(0, e.getKey().indexOf('\u0000'));
      c.presence(Addresses.PRESENCE_JOIN, new JsonObject()
          .put("client", c.id).put("subject", subject).put("node", loop.node)
          .put("info", infoOf.get(e.getKey())).put("channels", e.getValue()));
    }
  }

  /** After the dialect wrote its answer: recovered publications, then held ones, then live delivery. */
  public void goLive(Session c, Established est) {
    goLive(c, est, true);
  }

  /**
   * The publications recovered for one channel (app-local name) of a batch, in order; empty when none. For dialects
   * whose answer carries them (Centrifuge): they then call {@link #goLive(Session, Established, boolean)} with false.
   */
  public List<Publication> recovered(Session c, Established est, String channel) {
    String scoped = c.app.scope(channel);
    for (Ready r : est.ready()) {
      if (r.sub().channel.equals(scoped)) return r.recovered();
    }
    return List.of();
  }

  /** As {@link #goLive(Session, Established)}; {@code sendRecovered} false when the answer already carried them. */
  public void goLive(Session c, Established est, boolean sendRecovered) {
    for (Ready r : est.ready()) {
      Subscription s = r.sub();
      if (c.subscriptions.get(s.channel) != s || c.closing()) continue;
      s.epoch = r.epoch();
      s.lastOffset = r.recoverFrom();
      for (Publication p : r.recovered()) {
        if (s.accept(p) && sendRecovered && !ChannelHub.skips(c, p)) FrameCache.sendOne(c, p);
      }
      // the client was told the position; anything up to it that it has not recovered it does not expect
      if (s.lastOffset < r.offset()) s.lastOffset = r.offset();
      for (Publication p : s.takeHeld()) {
        if (s.accept(p) && !ChannelHub.skips(c, p)) FrameCache.sendOne(c, p);
      }
      s.live = true;
      loop.hub.positionKnown(s.channel, r.offset(), r.epoch());
    }
  }

  /**
   * Unsubscribes a session from channels (app-local names); per channel null when done, else the error. Presence
   * leaves go in one message.
   */
  public List<ServiceError> unsubscribe(Session c, List<String> channels) {
    List<ServiceError> out = new ArrayList<>(channels.size());
    JsonArray left = new JsonArray();
    for (String channel : channels) {
      Subscription s = c.subscriptions.get(c.app.scope(channel));
      if (s == null) {
        out.add(new ServiceError(ErrorCode.NOT_SUBSCRIBED, "not subscribed to " + Channels.abbreviate(channel)));
        continue;
      }
      drop(c, s);
      if (s.presence) left.add(s.channel);
      out.add(null);
    }
    leavePresence(c, left);
    return out;
  }

  /** After a refresh: channels the new token no longer grants are dropped; returns their app-local names. */
  public List<String> dropUngranted(Session c) {
    JsonArray left = new JsonArray();
    List<String> dropped = new ArrayList<>();
    for (Subscription s : new ArrayList<>(c.subscriptions.values())) {
      String local = App.local(s.channel);
      if (Channels.isPersonal(local) && local.equals(Channels.personal(c.subject()))) continue;
      try {
        loop.access.check(c, local, ChannelAccess.Op.SUBSCRIBE);
        continue;
      } catch (ServiceError e) {
        // no longer allowed
      }
      drop(c, s);
      if (s.presence) left.add(s.channel);
      dropped.add(local);
    }
    leavePresence(c, left);
    return dropped;
  }

  /** The session closed: leave the hub and presence. */
  void dropAll(Session c) {
    JsonArray left = new JsonArray();
    for (Subscription s : c.subscriptions.values()) {
      loop.hub.remove(s);
      if (s.presence) left.add(s.channel);
    }
    c.subscriptions.clear();
    if (c.timedOut && !left.isEmpty()) {
      c.presence(Addresses.PRESENCE_LEAVE, new JsonObject().put("client", c.id).put("channels", left).put("timeout", true));
      return;
    }
    leavePresence(c, left);
  }

  private void drop(Session c, Subscription s) {
    c.subscriptions.remove(s.channel, s);
    loop.hub.remove(s);
  }

  private void leavePresence(Session c, JsonArray channels) {
    if (!channels.isEmpty()) c.presence(Addresses.PRESENCE_LEAVE, new JsonObject().put("client", c.id).put("channels", channels));
  }
}
