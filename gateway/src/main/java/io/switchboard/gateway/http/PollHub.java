package io.switchboard.gateway.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.switchboard.common.Addresses;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Grants;
import io.switchboard.common.Ids;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.Claims;
import io.switchboard.gateway.TokenDigest;
import io.switchboard.gateway.core.ChannelAccess;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.Subscriptions;
import io.switchboard.gateway.protocol.nativev1.NativeDialect;
import io.switchboard.gateway.protocol.nativev1.NativeStreams;
import io.switchboard.gateway.transport.DirectWrites;
import io.switchboard.gateway.transport.HeldRequests;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;
import io.switchboard.gateway.transport.Transport;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The held long-polls ({@code GET /v1/poll}) of one gateway event loop. A held poll is NOT a session: it is a
 * {@link Waiter} holding its response, its channels' positions and a place in the waiting list of each channel's
 * {@link Track}. A track is the loop's one subscriber of a channel on behalf of every poll of it (a core session of
 * the native dialect, so fan-out, order, gap backfill and dedup are the core's): each publication is encoded once
 * and its line handed to the waiters whose position it is newer than. So what a held poll costs is its HTTP
 * connection plus a few hundred bytes, and there is no timer per poll: one wheel per loop ends the waits.
 *
 * <p>Positions: a track knows the channel's head on this loop (the store position read once when the track starts,
 * then every delivery). A poll whose {@code since} is at or past the head waits without touching the store; one
 * that is behind (or has another epoch) reads what it missed in ONE store request and is answered at once; a poll
 * without {@code since} starts from the head. A track outlives its last waiter by {@link #LINGER_MS} so a client that
 * polls again soon (the usual case) finds it.
 *
 * <p>Held polls count as connections (the connections gauge, the per-subject limit) and against the node's
 * {@code gateway.maxHeldPolls}. A waiter whose token expires or is revoked, or whose node starts draining, is
 * answered with a native {@code disconnect} event, as the session it replaces was. All on the loop's thread.
 */
final class PollHub {
  /** A track with no waiter for this long leaves its channel. */
  static final long LINGER_MS = 30_000;
  /** Resolution of the wait deadlines. */
  static final long TICK_MS = 50;
  /** Stored publications a track keeps (encoded) for polls a little behind: they need no store read. */
  static final int RECENT = 128;

  private final GatewayLoop loop;
  private final long maxAnswerBytes;
  /** Polls admitted and not yet answered on this gateway (every loop), bounded by {@link #maxHeld}. */
  private final AtomicInteger heldOnNode;
  private final int maxHeld;
  private final Map<String, Track> tracks = new HashMap<>();
  /** Deadline wheel: tick → waiters whose wait ends then (answered ones are skipped). */
  private final Map<Long, ArrayList<Waiter>> wheel = new HashMap<>();
  private long lastTick = System.currentTimeMillis() / TICK_MS;
  /** Waiters with data, answered together on the next turn of the loop (a burst goes in one answer). */
  private final ArrayDeque<Waiter> ready = new ArrayDeque<>();
  private boolean flushScheduled;
  private final Claims trackClaims;

  PollHub(GatewayLoop loop, AtomicInteger heldOnNode, int maxHeld) {
    this.loop = loop;
    this.maxAnswerBytes = loop.cfg.maxQueueBytes();
    this.heldOnNode = heldOnNode;
    this.maxHeld = maxHeld;
    this.trackClaims = new Claims("poll-hub", null, System.currentTimeMillis() / 1000, Long.MAX_VALUE / 2000, Grants.NONE,
        "server", new JsonObject());
    loop.vertx.setPeriodic(TICK_MS, t -> tick(System.currentTimeMillis()));
    loop.vertx.setPeriodic(1000, t -> sweep(System.currentTimeMillis()));
    // an operator's or Pusher's terminate of a user (GatewayLoop#terminate) ends their held polls too
    loop.holdsRequests(this::disconnect);
  }

  /** Polls held now on this loop. */
  private int heldHere;

  /** How long a token verified on this loop is taken again without checking its signature (expiry and revocation are checked every time). */
  static final long VERIFIED_MS = 60_000;
  static final int VERIFIED_MAX = 1024;

  private record Verified(Claims claims, long at) {}

  /**
   * Tokens verified on this loop lately, most recently used last. A client re-polls with the same token after every
   * answer — during a fan-out, once per publication — and one ES256 verification costs more than the rest of a poll
   * (a SHA-256 of the token costs ~2 µs, the verification ~50 µs).
   */
  private final java.util.LinkedHashMap<TokenDigest, Verified> verified = new java.util.LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<TokenDigest, Verified> e) {
      return size() > VERIFIED_MAX;
    }
  };

  /** The claims of a poll's token: from the recent verifications while fresh, unexpired and not revoked, else verified. */
  Future<Claims> verify(String token) {
    long now = System.currentTimeMillis();
    TokenDigest key = TokenDigest.of(token);
    Verified v = verified.get(key);
    if (v != null && now - v.at() < VERIFIED_MS && !v.claims().expiredAt(now) && !loop.verifier.revoked(v.claims())) {
      return Future.succeededFuture(v.claims());
    }
    if (v != null) verified.remove(key);
    return loop.verifier.verify(token).onSuccess(c -> verified.put(key, new Verified(c, now)));
  }

  /** Polls held now on this loop (tests, measurements). */
  int held() {
    return heldHere;
  }

  // --- one poll ------------------------------------------------------------------------------------

  /** One channel of a poll: its outcome and position. */
  static final class Slot {
    final String channel;
    Track track;
    ServiceError error;
    Boolean recovered;
    boolean stored;
    long offset;
    String epoch;
    /** The client's {@code since} for this channel, or null. */
    Long sinceOffset;
    String sinceEpoch;

    Slot(String channel) {
      this.channel = channel;
    }
  }

  /** One poll from admission to its answer. */
  final class Waiter {
    final HttpServerResponse response;
    final io.vertx.core.http.HttpConnection connection;
    /** The request until the poll is held (then lightened and dropped: the response is what the answer needs). */
    io.vertx.core.http.HttpServerRequest request;
    /** Whether the connection's write queue was swapped for the direct one while held. */
    boolean direct;
    final Claims claims;
    final Slot[] slots;
    List<byte[]> lines;
    long bytes;
    boolean full;
    boolean answered;
    boolean held;
    private boolean released;
    /** The full claims, for the access decisions until the poll is held (then dropped). */
    Claims access;
    /** Its place in the deadline wheel, emptied when it is answered earlier (the wheel must not keep it). */
    ArrayList<Waiter> bucket;
    int bucketIndex;

    Waiter(io.vertx.core.http.HttpServerRequest request, Claims claims, Slot[] slots) {
      this.request = request;
      this.response = request.response();
      this.connection = request.connection();
      this.claims = claims;
      this.slots = slots;
    }

    /** A line for the answer; false when the answer is full (the line comes with the next poll). */
    boolean add(byte[] line) {
      if (lines == null) lines = new ArrayList<>(4);
      if (!lines.isEmpty() && bytes + line.length > maxAnswerBytes) {
        full = true;
        return false;
      }
      lines.add(line);
      bytes += line.length;
      return true;
    }

    void release() {
      if (released) return;
      released = true;
      heldOnNode.decrementAndGet();
      loop.metrics.connections.decrementAndGet();
      loop.subjectLimits.release(claims.subject());
      loop.subjectLimits.releaseApp(loop.apps.defaultApp());
    }
  }

  /**
   * Admits a poll with verified claims: the node's held-poll bound, the subject's connection limit. Fails with
   * {@code limit_exceeded} past either.
   */
  Waiter admit(io.vertx.core.http.HttpServerRequest request, Claims claims, List<Subscriptions.Request> wanted) {
    if (maxHeld > 0 && heldOnNode.incrementAndGet() > maxHeld) {
      heldOnNode.decrementAndGet();
      throw new ServiceError(ErrorCode.LIMIT_EXCEEDED, "too many held polls on this gateway (gateway.maxHeldPolls " + maxHeld + "): poll again later");
    } else if (maxHeld <= 0) {
      heldOnNode.incrementAndGet();
    }
    if (!loop.subjectLimits.acquire(claims.subject())) {
      heldOnNode.decrementAndGet();
      throw new ServiceError(ErrorCode.LIMIT_EXCEEDED, "too many connections for subject " + claims.subject());
    }
    if (!loop.subjectLimits.acquireApp(loop.apps.defaultApp())) {
      heldOnNode.decrementAndGet();
      loop.subjectLimits.release(claims.subject());
      throw new ServiceError(ErrorCode.LIMIT_EXCEEDED, "app " + loop.apps.defaultApp().id() + " is over its connection quota");
    }
    loop.metrics.connections.incrementAndGet();
    Slot[] slots = new Slot[wanted.size()];
    for (int i = 0; i < slots.length; i++) {
      Subscriptions.Request r = wanted.get(i);
      Slot s = new Slot(r.channel());
      s.sinceOffset = r.recoverOffset();
      s.sinceEpoch = r.recoverEpoch();
      for (int k = 0; k < i; k++) {
        if (slots[k].channel.equals(s.channel)) s.error = new ServiceError(ErrorCode.ALREADY_SUBSCRIBED, "already subscribed to " + s.channel);
      }
      slots[i] = s;
    }
    // what a held poll needs of its token once access is decided: who (limits), expiry and revocation
    Claims held = new Claims(claims.subject(), claims.tokenId(), claims.iat(), claims.exp(), Grants.NONE, null, null);
    Waiter w = new Waiter(request, held, slots);
    w.access = claims;
    w.response.closeHandler(v -> closed(w));
    return w;
  }

  /**
   * Runs an admitted poll: each allowed channel's track (started if needed), then an answer at once when a channel
   * was refused, cannot be recovered, or has something newer than {@code since} (read from the store in one
   * request); else the waiter is held until a publication or {@code waitMs}.
   */
  void start(Waiter w, long waitMs) {
    List<Future<Void>> ready = new ArrayList<>();
    for (Slot s : w.slots) ready.add(s.error != null ? Future.succeededFuture() : allowed(w.access, s).compose(options -> {
      if (s.sinceOffset != null && !options.recovery() && !options.ephemeral()) s.recovered = false;
      return track(s.channel);
    }).transform(ar -> {
      if (ar.succeeded()) s.track = ar.result();
      else s.error = ServiceError.from(ar.cause(), "message store");
      return Future.succeededFuture();
    }));
    Future.all(ready).onComplete(ar -> {
      w.access = null;
      if (w.answered) return;
      List<Slot> behind = new ArrayList<>();
      boolean tellNow = false;
      for (Slot s : w.slots) {
        if (s.error != null) {
          tellNow = true;
          continue;
        }
        Track t = s.track;
        s.stored = t.stored;
        if (!t.stored) continue;
        if (waitMs <= 0 && !Boolean.FALSE.equals(s.recovered)) {
          // a poll that will not wait is answered from the store: what was stored and is still on its way to this
          // loop is in it too (a held poll gets such a publication when it arrives)
          behind.add(s);
        } else if (Boolean.FALSE.equals(s.recovered)) {
          // recovery is off in this namespace: the client learns it and takes the head
          s.offset = t.offset;
          s.epoch = t.epoch;
          tellNow = true;
        } else if (s.sinceOffset == null) {
          s.offset = t.offset;
          s.epoch = t.epoch;
        } else if (s.sinceEpoch.equals(t.epoch) && s.sinceOffset >= t.offset) {
          // nothing newer on this loop: wait, no store read
          s.offset = s.sinceOffset;
          s.epoch = t.epoch;
          s.recovered = true;
        } else if (t.covers(s.sinceOffset, s.sinceEpoch)) {
          // a little behind (the usual re-poll during a fan-out): from the track's recent lines, no store read
          s.offset = s.sinceOffset;
          s.epoch = t.epoch;
          s.recovered = true;
          t.replay(w, s);
          tellNow = true;
        } else {
          behind.add(s);
        }
      }
      if (!behind.isEmpty()) {
        recover(w, behind);
      } else if (tellNow || waitMs <= 0) {
        answer(w);
      } else {
        hold(w, waitMs);
      }
    });
  }

  /**
   * The one access decision for one channel of a poll; a channel the token's grants do not cover goes to the app
   * backend's subscribe proxy when one is configured (the channel rules still apply to what it allows).
   */
  private Future<NamespaceOptions> allowed(Claims claims, Slot s) {
    io.switchboard.gateway.core.Caller caller = caller(claims, false);
    try {
      return Future.succeededFuture(loop.access.check(caller, s.channel, ChannelAccess.Op.SUBSCRIBE));
    } catch (ServiceError e) {
      Future<Void> backend = ChannelAccess.noSubscribeGrant(e) ? loop.backend.subscribe(caller, loop.apps.defaultApp(), s.channel) : null;
      if (backend == null) return Future.failedFuture(e);
      return backend.compose(v -> {
        try {
          return Future.succeededFuture(loop.access.check(caller(claims, true), s.channel, ChannelAccess.Op.SUBSCRIBE));
        } catch (ServiceError e2) {
          return Future.failedFuture(e2);
        }
      });
    }
  }

  /**
   * One store request for every channel the client is behind on (and every channel of a poll that does not wait):
   * what it missed goes in this answer.
   */
  private void recover(Waiter w, List<Slot> behind) {
    JsonArray q = new JsonArray();
    for (Slot s : behind) {
      JsonObject c = new JsonObject().put("channel", loop.apps.defaultApp().scope(s.channel));
      if (s.sinceOffset != null) c.put("recover", new JsonObject().put("offset", s.sinceOffset).put("epoch", s.sinceEpoch));
      q.add(c);
    }
    loop.bus.<JsonObject>request(Addresses.STORE_POSITION, new JsonObject().put("channels", q),
            new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(loop.cfg.requestTimeoutMs()))
        .compose(m -> {
          List<Future<JsonObject>> whole = new ArrayList<>();
          for (Object o : m.body().getJsonArray("channels", new JsonArray())) whole.add(loop.complete((JsonObject) o));
          return Future.all(whole).map(v -> {
            List<JsonObject> out = new ArrayList<>();
            for (Future<JsonObject> f : whole) out.add(f.result());
            return out;
          });
        })
        .onComplete(ar -> {
          if (w.answered) return;
          for (int i = 0; i < behind.size(); i++) {
            Slot s = behind.get(i);
            JsonObject p = ar.succeeded() && i < ar.result().size() ? ar.result().get(i) : null;
            if (p == null || p.containsKey("error")) {
              s.error = p == null ? ServiceError.from(ar.cause(), "message store")
                  : new ServiceError(ErrorCode.fromWire(p.getJsonObject("error").getString("code")) == null ? ErrorCode.INTERNAL
                      : ErrorCode.fromWire(p.getJsonObject("error").getString("code")), p.getJsonObject("error").getString("message", "store error"));
              continue;
            }
            if (s.sinceOffset == null) {
              s.offset = p.getLong("offset", 0L);
              s.epoch = p.getString("epoch");
              continue;
            }
            boolean ok = p.getBoolean("recovered", false);
            s.recovered = ok;
            if (!ok) {
              s.offset = p.getLong("offset", 0L);
              s.epoch = p.getString("epoch");
              continue;
            }
            // positions advance only over what the answer carries
            s.offset = s.sinceOffset;
            s.epoch = s.sinceEpoch;
            for (Object o : p.getJsonArray("publications", new JsonArray())) {
              Publication pub = Publication.fromJson((JsonObject) o);
              if (pub.offset() <= s.offset || w.full) continue;
              ByteBuf b = NativeDialect.INSTANCE.encodePublication(pub);
              if (b == null) continue;
              byte[] line = ByteBufUtil.getBytes(b);
              b.release();
              if (!w.add(line)) break;
              s.offset = pub.offset();
            }
          }
          answer(w);
        });
  }

  private void hold(Waiter w, long waitMs) {
    w.held = true;
    heldHere++;
    // while held, the only write to this connection is the answer, on this loop: Vert.x's multi-producer write
    // queue (~4.7 KB with its first chunk, the largest part of an idle connection) is swapped for the direct one
    w.direct = DirectWrites.apply(w.connection);
    // and what Vert.x and Netty keep of the request (headers, URI copies, the decoder's grown scratch buffer) goes
    HeldRequests.lighten(w.request, "/v1/poll");
    w.request = null;
    for (Slot s : w.slots) {
      if (s.track != null) s.track.add(w);
    }
    // never in a tick already passed (the wall clock may step back): that bucket would never be processed
    long due = Math.max(lastTick + 1, (System.currentTimeMillis() + waitMs + TICK_MS - 1) / TICK_MS);
    ArrayList<Waiter> bucket = wheel.computeIfAbsent(due, k -> new ArrayList<>());
    w.bucket = bucket;
    w.bucketIndex = bucket.size();
    bucket.add(w);
  }

  /** The client went away while its poll was held or starting. */
  private void closed(Waiter w) {
    if (w.answered) return;
    w.answered = true;
    w.request = null;
    unhold(w);
    w.release();
  }

  private void unhold(Waiter w) {
    if (w.bucket != null) {
      w.bucket.set(w.bucketIndex, null);
      w.bucket = null;
    }
    if (!w.held) return;
    w.held = false;
    heldHere--;
    for (Slot s : w.slots) {
      if (s.track != null && --s.track.live == 0) s.track.idleSince = System.currentTimeMillis();
    }
  }

  /** A line for a held waiter: answered on the next turn of the loop (with whatever else arrives until then). */
  private void deliver(Waiter w, Slot s, byte[] line, long offset, String epoch) {
    if (w.answered || w.full) return;
    if (offset > 0 && epoch != null && s.offset >= offset && epoch.equals(s.epoch)) return; // the client has it
    if (!w.add(line)) {
      schedule(w);
      return;
    }
    if (offset > 0 && epoch != null) {
      s.offset = offset;
      s.epoch = epoch;
    }
    schedule(w);
  }

  private void schedule(Waiter w) {
    ready.add(w);
    if (flushScheduled) return;
    flushScheduled = true;
    loop.vertx.runOnContext(v -> {
      flushScheduled = false;
      Waiter x;
      while ((x = ready.poll()) != null) answer(x);
    });
  }

  /** Answers once: the events, every stored channel's next position, the {@code since} to send next, the outcomes. */
  void answer(Waiter w) {
    if (w.answered) return;
    w.answered = true;
    w.request = null;
    unhold(w);
    w.release();
    List<byte[]> lines = w.lines == null ? List.of() : w.lines;
    int size = 256;
    for (byte[] l : lines) size += l.length + 1;
    Buffer body = Buffer.buffer(size);
    body.appendString("{\"events\":[");
    for (int i = 0; i < lines.size(); i++) {
      if (i > 0) body.appendByte((byte) ',');
      body.appendBytes(lines.get(i));
    }
    JsonObject pos = new JsonObject();
    StringBuilder next = new StringBuilder();
    JsonArray chans = new JsonArray();
    for (Slot s : w.slots) {
      JsonObject c = new JsonObject().put("channel", s.channel).put("ok", s.error == null);
      if (s.error != null) c.put("error", s.error.toJson());
      if (s.recovered != null) c.put("recovered", s.recovered);
      chans.add(c);
      if (s.error != null || !s.stored || s.epoch == null) continue;
      pos.put(s.channel, new JsonObject().put("offset", s.offset).put("epoch", s.epoch));
      if (next.length() > 0) next.append(' ');
      next.append(NativeStreams.position(s.offset, s.epoch, s.channel));
    }
    String tail = new JsonObject().put("positions", pos).put("since", next.toString()).put("channels", chans).encode();
    body.appendString("],").appendString(tail.substring(1), StandardCharsets.UTF_8.name());
    w.lines = null; // answered waiters may linger in a track's list until it is compacted: keep them small
    HttpServerResponse resp = w.response;
    if (!resp.ended() && !resp.closed()) {
      resp.setStatusCode(200).putHeader("content-type", "application/json").putHeader("cache-control", "no-store").end(body);
    }
    if (w.direct) {
      w.direct = false;
      DirectWrites.restore(w.connection);
    }
  }

  /** Ends a held waiter with a native disconnect event (token expired or revoked, node draining). */
  private void disconnect(Waiter w, Disconnect reason, String text) {
    if (w.answered) return;
    int code = NativeDialect.INSTANCE.closeCode(reason);
    loop.metrics.disconnect(code, reason);
    ByteBuf bye = NativeDialect.INSTANCE.goodbye(reason, code, text);
    if (bye != null) {
      w.full = false;
      if (w.lines == null) w.lines = new ArrayList<>(1);
      w.lines.add(ByteBufUtil.getBytes(bye));
      bye.release();
    }
    answer(w);
  }

  /**
   * The server API's {@code disconnect} of a user: every poll of theirs held on this loop ends now with the native
   * {@code disconnect} event (TERMINATED), as their sessions do. Held polls belong to the default app. Returns how many.
   */
  int disconnect(String appId, String subject, String reason) {
    if (subject == null || !loop.apps.defaultApp().id().equals(appId)) return 0;
    int n = 0;
    for (Track t : new ArrayList<>(tracks.values())) {
      for (Waiter w : new ArrayList<>(t.waiters)) {
        if (w.answered || !w.held || !subject.equals(w.claims.subject())) continue;
        disconnect(w, Disconnect.TERMINATED, reason);
        n++;
      }
    }
    return n;
  }

  // --- timers: one wheel and one sweep per loop ---------------------------------------------------

  private void tick(long now) {
    long current = now / TICK_MS;
    for (long t = lastTick + 1; t <= current; t++) {
      ArrayList<Waiter> due = wheel.remove(t);
      if (due == null) continue;
      for (Waiter w : due) {
        if (w == null) continue;
        w.bucket = null;
        answer(w);
      }
    }
    lastTick = Math.max(lastTick, current);
  }

  /** Every second: expired or revoked tokens and draining end held waiters; idle tracks leave their channels. */
  private void sweep(long now) {
    boolean draining = loop.draining();
    for (Iterator<Track> it = tracks.values().iterator(); it.hasNext(); ) {
      Track t = it.next();
      if (t.live == 0 && !t.waiters.isEmpty()) t.compact();
      if (t.live > 0) {
        for (Waiter w : new ArrayList<>(t.waiters)) {
          if (w.answered) continue;
          if (draining) disconnect(w, Disconnect.DRAINING, "node draining");
          else if (w.claims.expiredAt(now)) disconnect(w, Disconnect.TOKEN_EXPIRED, "token expired");
          else if (loop.verifier.revoked(w.claims)) disconnect(w, Disconnect.FORBIDDEN, "token revoked");
        }
        t.compact();
      }
      if (t.live == 0 && t.session != null && now - t.idleSince >= LINGER_MS) {
        it.remove();
        t.leave();
      }
    }
  }

  // --- tracks --------------------------------------------------------------------------------------

  private Future<Track> track(String channel) {
    Track t = tracks.get(channel);
    if (t == null) {
      t = new Track(channel);
      tracks.put(channel, t);
      t.start();
    } else {
      // a poll is about to wait on it: the sweep must not retire it meanwhile
      t.idleSince = System.currentTimeMillis();
    }
    Track started = t;
    return t.ready.future().map(v -> started);
  }

  /**
   * The loop's subscriber of one channel for every poll of it: a core session of the native dialect whose
   * transport hands each encoded line to the waiting polls. It never counts as a connection, joins no presence,
   * and is not swept (its claims never expire); it leaves its channel once no poll has waited for {@link #LINGER_MS}.
   */
  final class Track implements Transport {
    final String channel;
    Session session;
    final Promise<Void> ready = Promise.promise();
    boolean stored;
    /** The channel's head on this loop: the last stored offset delivered, or the store's position at the start. */
    long offset;
    String epoch;
    final ArrayList<Waiter> waiters = new ArrayList<>();
    /** Waiters in {@link #waiters} not yet answered. */
    int live;
    /** The last {@link #RECENT} stored publications delivered here, in offset order (consecutive offsets). */
    private final ArrayDeque<Object[]> recent = new ArrayDeque<>();
    long idleSince = System.currentTimeMillis();
    private Listener listener;

    Track(String channel) {
      this.channel = channel;
    }

    void start() {
      session = new Session(Ids.hex(16), loop, loop.apps.defaultApp(), this, NativeDialect.INSTANCE);
      session.joinsPresence = false;
      session.connected(trackClaims);
      listen(session);
      loop.subscriptions.subscribeDecided(session, new Subscriptions.Request(channel, null, null)).onComplete(ar -> {
        Subscriptions.Outcome o = ar.succeeded() ? ar.result().outcomes().get(0) : null;
        if (o == null || !o.ok()) {
          tracks.remove(channel, this);
          leave();
          ready.fail(o == null ? ar.cause() : o.error());
          return;
        }
        stored = o.stored();
        offset = o.offset();
        epoch = o.epoch();
        loop.subscriptions.goLive(session, ar.result());
        ready.complete();
      });
    }

    /** Whether the recent lines hold everything after {@code since} up to the head. */
    boolean covers(long since, String sinceEpoch) {
      return !recent.isEmpty() && sinceEpoch.equals(epoch) && since < offset && (long) recent.peekFirst()[0] <= since + 1;
    }

    /** The recent lines after the slot's position into the waiter's answer (as far as it takes them). */
    void replay(Waiter w, Slot s) {
      for (Object[] r : recent) {
        long off = (long) r[0];
        if (off <= s.offset) continue;
        if (!w.add((byte[]) r[1])) break;
        s.offset = off;
      }
    }

    void add(Waiter w) {
      if (waiters.size() > 2 * live + 16) compact();
      waiters.add(w);
      live++;
    }

    /** Drops answered waiters from the list. */
    void compact() {
      waiters.removeIf(w -> w.answered || !w.held);
      if (waiters.isEmpty()) idleSince = System.currentTimeMillis();
    }

    void leave() {
      if (session != null && session.subscribed(channel)) loop.subscriptions.unsubscribe(session, List.of(channel));
    }

    @Override
    public void write(Encoded frame) {
      ByteBuf wire = frame.wire();
      byte[] line;
      try {
        line = ByteBufUtil.getBytes(wire, wire.readerIndex(), wire.readableBytes() - 1); // NDJSON: without the newline
      } finally {
        wire.release();
      }
      long off = 0;
      String ep = null;
      if (stored) {
        JsonObject e = new JsonObject(Buffer.buffer(line));
        if ("event".equals(e.getString("type")) && e.getValue("offset") instanceof Number n && e.getString("epoch") != null) {
          off = n.longValue();
          ep = e.getString("epoch");
          if (!ep.equals(epoch) || off != offset + 1) recent.clear(); // only consecutive offsets of one epoch
          offset = off;
          epoch = ep;
          recent.addLast(new Object[] {off, line});
          if (recent.size() > RECENT) recent.pollFirst();
        }
      }
      if (live == 0) return;
      for (int i = 0, n = waiters.size(); i < n; i++) {
        Waiter w = waiters.get(i);
        if (w.answered) continue;
        for (Slot s : w.slots) {
          if (s.track == this) deliver(w, s, line, off, ep);
        }
      }
    }

    @Override
    public void listen(Listener listener) {
      this.listener = listener;
    }

    @Override
    public Framing framing() {
      return Framing.NDJSON;
    }

    @Override
    public boolean bidirectional() {
      return false;
    }

    @Override
    public boolean ping() {
      if (listener != null) listener.onPong();
      return true;
    }

    @Override
    public void close(int code, String reason) {
      tracks.remove(channel, this);
      for (Waiter w : new ArrayList<>(waiters)) answer(w);
    }

    @Override
    public void forceClose() {
      close(1000, "closed");
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public String header(String name) {
      return null;
    }

    @Override
    public String remoteAddress() {
      return null;
    }
  }

  /** A poller as the channel-access decision sees it: its token, no connection. */
  private static io.switchboard.gateway.core.Caller caller(Claims claims, boolean server) {
    return io.switchboard.gateway.core.Caller.connectionless(claims, server);
  }
}
