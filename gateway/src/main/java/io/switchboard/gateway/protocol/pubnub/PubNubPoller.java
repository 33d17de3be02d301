package io.switchboard.gateway.protocol.pubnub;

import io.netty.buffer.ByteBuf;
import io.switchboard.common.Addresses;
import io.switchboard.common.App;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.Claims;
import io.switchboard.gateway.TokenDigest;
import io.switchboard.gateway.core.ChannelAccess;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.Subscriptions;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;
import io.switchboard.gateway.transport.Transport;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.ContextInternal;
import io.switchboard.gateway.transport.DirectWrites;
import io.switchboard.gateway.transport.HeldRequests;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One PubNub client ({@code uuid} in an app) as a session of the core: a receive-only {@link Transport} that buffers
 * the envelopes the fan-out writes and hands them to the client's held subscribe long-poll.
 *
 * <p>Exactly-once cursor: every buffered envelope has a sequence number; every {@code t.t} we answer (a cursor) is
 * remembered with the last sequence it covers. A poll with a remembered cursor acknowledges everything up to it (those
 * envelopes are dropped) and gets everything after it — so a response lost with a dropped connection is sent again
 * when the SDK re-polls with its previous cursor, and nothing is sent twice. A cursor we do not remember (a new
 * session after a restart or an expiry) is read as a time: the new subscriptions recover from the store every
 * publication whose timetoken is newer, through the core's recovery (recovered, then held, then live: in order,
 * once).
 *
 * <p>Bounds: the buffer is bounded by the gateway's {@code maxQueueBytes} (past it: slow consumer, the session ends and
 * the next poll recovers from the store); one held poll per client (a new poll answers the previous one); a client
 * that neither polls nor heartbeats for its presence timeout is ended as timed out. All on the owning event loop.
 */
final class PubNubPoller implements Transport {
  static final long EXPIRED_GRACE_MS = 30_000;
  static final int MAX_PER_RESPONSE = 100;
  private static final int REMEMBERED_CURSORS = 32;

  private record Entry(long seq, byte[] bytes, long tt) {}

  final PubNubEndpoint endpoint;
  final String uuid;
  Session session;
  /**
   * The {@link TokenDigest} of the token the session was opened or last refreshed with, as two fields (not the
   * token: ~700 bytes per client; not an object: 16 bytes less per client).
   */
  private long tokenDigest0, tokenDigest1;
  private Future<Void> authenticated;
  private static final Future<Void> ACCEPTED = Future.succeededFuture();
  private boolean closed;

  /** Envelopes not yet acknowledged; null when there are none (always, while a poll is held). */
  private ArrayDeque<Entry> buffer;
  private long nextSeq = 1;
  private long bufferedBytes;
  /**
   * The last {@link #REMEMBERED_CURSORS} cursors issued, each with the last sequence it covers, oldest first: pairs
   * (cursor, seq) in one growing array (a held client has one or two remembered).
   */
  private long[] cursors = new long[2];
  private int cursorCount;
  private long lastCursor;

  private boolean recovering;
  /** The held response's connection side (written on its own event loop, see {@link Held}). */
  private Held heldOn;
  private long heldCursor;
  private long heldUntil;
  long lastActivity = System.currentTimeMillis();
  /** Presence timeout, milliseconds (at most 320 s). */
  int timeoutMs;
  /** The client's subscribe {@code filter-expr} (the latest subscribe's), or null; read by PubNubDialect.variant. */
  PubNubFilter filter;
  /** Polls and channel changes of this client, one at a time (a poll waits for the previous one's subscriptions). */
  private Future<?> chain = IDLE;
  private static final Future<?> IDLE = Future.succeededFuture();

  PubNubPoller(PubNubEndpoint endpoint, String uuid) {
    this.endpoint = endpoint;
    this.uuid = uuid;
    this.timeoutMs = PubNubEndpoint.DEFAULT_PRESENCE_TIMEOUT_S * 1000;
  }

  GatewayLoop loop() {
    return endpoint.loop;
  }

  /**
   * The owning event loop's context: the endpoint's (a client lives on the loop whose endpoint made it; not kept per
   * client).
   */
  Context ctx() {
    return endpoint.ctx;
  }

  /** The client's app (its session's; not kept twice). */
  App app() {
    return session.app;
  }

  boolean closed() {
    return closed;
  }

  boolean holding() {
    return heldOn != null;
  }

  // --- credentials ---------------------------------------------------------------------------------

  /** Checks the request's token: the first one opens the session, a new one (setToken) refreshes its claims. */
  Future<Void> authorize(App app, String requestToken) {
    GatewayLoop loop = loop();
    if (authenticated == null) {
      session = new Session(Ids.hex(16), loop, app, this, endpoint.dialect);
      session.dialectState = this;
      loop.register(session);
      listen(session);
      digest(requestToken);
      Future<Void> first = loop.authenticate(session, requestToken).<Void>map(c -> {
        // the same claims as other clients' (same token, or same grants): kept once
        if (session.claims() == c) session.refreshed(SharedClaims.of(c));
        return null;
      }).onFailure(t -> session.disconnect(Disconnect.INVALID_TOKEN, "bad token"));
      authenticated = first;
      // once accepted, a shared completed future stands for it: the first one's chain is not kept per client
      first.onSuccess(v -> {
        if (authenticated == first) authenticated = ACCEPTED;
      });
      return first;
    }
    return authenticated.compose(v -> {
      if (closed) return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "session closed"));
      if (sameToken(requestToken)) {
        if (session.claims().expiredAt(System.currentTimeMillis())) {
          return Future.failedFuture(new ServiceError(ErrorCode.TOKEN_EXPIRED, "token expired: set a fresh one with setToken"));
        }
        return Future.succeededFuture();
      }
      return loop.verifier.verify(requestToken).compose(c -> {
        if (!c.subject().equals(session.subject())) {
          return Future.<Void>failedFuture(new ServiceError(ErrorCode.PERMISSION_DENIED,
              "the token is for subject " + c.subject() + ", this uuid's session belongs to " + session.subject()));
        }
        if (closed) return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "session closed"));
        session.refreshed(SharedClaims.of(c));
        digest(requestToken);
        loop.subscriptions.dropUngranted(session);
        return Future.<Void>succeededFuture();
      });
    });
  }

  /** Remembers the token's digest (a null token: none, matching no token). */
  private void digest(String token) {
    TokenDigest d = token == null ? null : TokenDigest.of(token);
    tokenDigest0 = d == null ? 0 : d.high();
    tokenDigest1 = d == null ? 0 : d.low();
  }

  /** Whether {@code token} is the one remembered. */
  private boolean sameToken(String token) {
    if (token == null || tokenDigest0 == 0 && tokenDigest1 == 0) return false;
    return TokenDigest.of(token).is(tokenDigest0, tokenDigest1);
  }

  Claims claims() {
    return session.claims();
  }

  void touch() {
    lastActivity = System.currentTimeMillis();
  }

  // --- subscribe long-poll -------------------------------------------------------------------------

  /** A subscribe poll: reconcile the channel list, then answer at once or hold. {@code tt} null/0 is a handshake. */
  void poll(HttpServerRequest request, Context connectionContext, List<String> names, Long tt, JsonObject state) {
    touch();
    Future<?> next = chain.transform(ar -> pollNow(request, connectionContext, names, tt, state));
    chain = next;
    // a finished chain keeps nothing: its last step's function holds the poll's request and arguments
    next.onComplete(ar -> {
      if (chain == next) chain = IDLE;
    });
  }

  private Future<Void> pollNow(HttpServerRequest request, Context connectionContext, List<String> names, Long tt, JsonObject state) {
    HttpServerResponse response = request.response();
    if (closed) {
      PubNubEndpoint.error(response, 503, "the session closed: subscribe again");
      return Future.succeededFuture();
    }
    if (heldOn != null) answer(heldOn.response, heldCursor); // a new poll supersedes the held one
    boolean handshake = tt == null || tt == 0;
    Long known = handshake ? null : cursor(tt);
    Long recoverFrom = !handshake && known == null ? tt : null;
    // what recovery writes is bounded by the store (100 per channel), not by a slow reader: no overflow meanwhile
    recovering = recoverFrom != null;
    return sync(names, recoverFrom).compose(denied -> {
      recovering = false;
      if (!denied.isEmpty()) {
        PubNubEndpoint.denied(response, denied);
        return Future.succeededFuture();
      }
      if (state != null) applyState(state);
      if (handshake) {
        // the handshake's cursor covers what is buffered: polling with it starts from now; an SDK that polls with a
        // timetoken of its own instead (subscribe({timetoken}) after a restart) still finds what it missed
        answerEmpty(response, issue(Timetokens.now(), nextSeq - 1));
      } else if (known != null) {
        // the client moved on from its subscriptions' starting points
        startPositions = null;
        drop(known);
        if (buffer != null) answer(response, tt);
        else hold(request, connectionContext, tt);
      } else {
        // a timetoken of the client's own: what is buffered and newer is what it missed, and so is what was stored
        // between it and the start of subscriptions made since (the event engine's handshake comes first)
        if (buffer != null) {
          buffer.removeIf(e -> {
            if (e.tt > tt) return false;
            bufferedBytes -= e.bytes.length;
            return true;
          });
          if (buffer.isEmpty()) buffer = null;
        }
        return fillGap(names, tt).map(v -> {
          if (closed) {
            PubNubEndpoint.error(response, 503, "the session closed: subscribe again");
          } else if (buffer != null) {
            answer(response, tt);
          } else {
            hold(request, connectionContext, issue(Math.max(tt, Timetokens.now()), nextSeq - 1));
          }
          return null;
        });
      }
      return Future.succeededFuture();
    });
  }

  /** The channels (scoped) whose {@code -pnpres} the client subscribes to: presence events of others are not sent. */
  Set<String> presenceWanted = Set.of();

  /** Where a subscription began, until the client polls with a cursor of ours. */
  private record Start(long offset, String epoch) {}

  /** Where each subscription began, until the client polls with a cursor of ours (then null: most clients' state). */
  private Map<String, Start> startPositions;

  /**
   * Puts before the buffer the stored publications with a timetoken above {@code tt} and at or before the start of
   * subscriptions the client has not polled past: the buffer holds only what came after those starts, so the two are
   * disjoint and together whole. The buffer is renumbered and earlier cursors forgotten (they no longer describe it).
   */
  private Future<Void> fillGap(List<String> names, long tt) {
    List<Future<List<JsonObject>>> reads = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (String n : names) {
      String ch = n.endsWith(PubNubDialect.PRESENCE_SUFFIX) ? n.substring(0, n.length() - PubNubDialect.PRESENCE_SUFFIX.length()) : n;
      Start start = startPositions == null ? null : startPositions.remove(ch);
      if (start == null || !seen.add(ch) || !session.subscribed(ch)) continue;
      long startOffset = start.offset();
      // newest first from the head: what came after the start is in the buffer (skipped here)
      JsonObject q = new JsonObject().put("channel", app().scope(ch)).put("limit", MAX_PER_RESPONSE).put("reverse", true);
      DeliveryOptions o = new DeliveryOptions().setSendTimeout(loop().cfg.requestTimeoutMs());
      reads.add(loop().bus.<JsonObject>request(Addresses.STORE_HISTORY, q, o).map(m -> {
        List<JsonObject> newer = new ArrayList<>();
        for (Object x : m.body().getJsonArray("publications", new JsonArray())) {
          JsonObject p = (JsonObject) x;
          if (p.getLong("offset", 0L) > startOffset || !java.util.Objects.equals(p.getString("epoch"), start.epoch())) continue;
          if (Timetokens.of(p) <= tt) break;
          newer.add(0, p);
        }
        return newer;
      }).otherwise(List.of()));
    }
    if (reads.isEmpty()) return Future.succeededFuture();
    return Future.all(reads).map(all -> {
      List<JsonObject> pubs = new ArrayList<>();
      for (Future<List<JsonObject>> f : reads) pubs.addAll(f.result());
      if (pubs.isEmpty() || closed) return null;
      pubs.sort(java.util.Comparator.comparingLong(Timetokens::of));
      List<Entry> all2 = new ArrayList<>();
      for (JsonObject p : pubs) {
        io.switchboard.common.Publication pub = io.switchboard.common.Publication.fromJson(p);
        if (!PubNubDialect.passes(this, pub)) continue;
        ByteBuf b = endpoint.dialect.encodePublication(pub);
        if (b == null) continue;
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        all2.add(new Entry(0, bytes, Timetokens.of(p)));
        bufferedBytes += bytes.length;
      }
      if (buffer != null) all2.addAll(buffer);
      buffer = all2.isEmpty() ? null : new ArrayDeque<>(all2.size());
      cursorCount = 0;
      if (cursors.length > 2) cursors = new long[2];
      for (Entry e : all2) buffer.addLast(new Entry(nextSeq++, e.bytes, e.tt));
      return null;
    });
  }

  private void answerEmpty(HttpServerResponse response, long cursor) {
    if (response.ended() || response.closed()) return;
    PubNubEndpoint.json(response, 200).end("{\"t\":{\"t\":\"" + PubNubDialect.pad(cursor) + "\",\"r\":1},\"m\":[]}");
    touch();
  }

  private void hold(HttpServerRequest request, Context connectionContext, long cursor) {
    HttpServerResponse response = request.response();
    if (closed || response.closed()) return;
    Held on = new Held(this, request, connectionContext);
    heldOn = on;
    on.lighten(request);
    heldCursor = cursor;
    heldUntil = System.currentTimeMillis() + endpoint.holdMs;
    endpoint.held.incrementAndGet();
    response.closeHandler(on);
  }

  /** The held poll's connection closed (on this client's loop). */
  private void heldClosed(HttpServerResponse response) {
    if (heldOn != null && heldOn.response == response) {
      released();
      touch();
    }
  }

  private void released() {
    heldOn = null;
    endpoint.held.decrementAndGet();
  }

  /** Answers a poll with what is buffered (up to {@link #MAX_PER_RESPONSE}); {@code cursor} when nothing is. */
  private void answer(HttpServerResponse response, long cursor) {
    Held on = heldOn != null && heldOn.response == response ? heldOn : null;
    if (on != null) released();
    if (response.ended() || response.closed()) return;
    StringBuilder m = new StringBuilder(64);
    long maxTt = 0;
    long lastSeq = -1;
    int n = 0;
    List<byte[]> parts = new ArrayList<>();
    int size = 0;
    for (Entry e : buffer == null ? List.<Entry>of() : buffer) {
      // at most 100 messages, and (past the first) at most maxQueueBytes, per answer
      if (n == MAX_PER_RESPONSE || n > 0 && size + e.bytes.length > loop().cfg.maxQueueBytes()) break;
      parts.add(e.bytes);
      size += e.bytes.length + 1;
      maxTt = Math.max(maxTt, e.tt);
      lastSeq = e.seq;
      n++;
    }
    long t = n == 0 ? cursor : issue(maxTt, lastSeq);
    m.append("{\"t\":{\"t\":\"").append(PubNubDialect.pad(t)).append("\",\"r\":1},\"m\":[");
    Buffer out = Buffer.buffer(m.length() + size + 2).appendString(m.toString());
    for (int i = 0; i < parts.size(); i++) {
      if (i > 0) out.appendByte((byte) ',');
      out.appendBytes(parts.get(i));
    }
    out.appendString("]}");
    if (on != null) on.end(out);
    else PubNubEndpoint.json(response, 200).end(out);
    touch();
  }

  /**
   * A held subscribe poll on its connection's side. The connection may belong to another event loop than this
   * client's session: the answer is written on the connection's own loop, which is what lets the connection drop
   * Vert.x's multi-producer write queue while it holds the poll (the largest part of an idle connection, see
   * {@link DirectWrites}); the queue is given back after the answer. Both happen as tasks of the connection's
   * context, in order.
   */
  private static final class Held implements io.vertx.core.Handler<Void> {
    final PubNubPoller client;
    final HttpServerResponse response;
    final HttpConnection connection;
    final ContextInternal context;
    /** Touched on the connection's loop only. */
    boolean direct;
    boolean done;

    Held(PubNubPoller client, HttpServerRequest request, Context context) {
      this.client = client;
      this.response = request.response();
      this.connection = request.connection();
      this.context = (ContextInternal) context;
    }

    /** The response's close: the connection may live on another event loop than the client, handled back on its. */
    @Override
    public void handle(Void v) {
      client.ctx().runOnContext(w -> client.heldClosed(response));
    }

    /** On the connection's loop: what is kept of the request is lightened (the request itself is not kept here). */
    void lighten(HttpServerRequest r) {
      if (connection == null || context == null) return;
      onLoop(() -> {
        if (done) return;
        direct = DirectWrites.apply(connection);
        // what Vert.x and Netty keep of the request: headers, the URI with its token and its copies, the decoder's
        // scratch buffer grown by that URI
        HeldRequests.lighten(r, "/v2/subscribe");
      });
    }

    void end(Buffer out) {
      if (context == null) {
        PubNubEndpoint.json(response, 200).end(out);
        return;
      }
      onLoop(() -> {
        done = true;
        if (!response.ended() && !response.closed()) PubNubEndpoint.json(response, 200).end(out);
        if (direct) {
          direct = false;
          DirectWrites.restore(connection);
        }
      });
    }

    private void onLoop(Runnable r) {
      if (context.nettyEventLoop().inEventLoop()) r.run();
      else context.runOnContext(v -> r.run());
    }
  }

  /** Remembers a new cursor covering sequence {@code seq}; cursors only grow. */
  private long issue(long atLeast, long seq) {
    long c = Math.max(lastCursor + 1, atLeast);
    lastCursor = c;
    if (cursorCount == REMEMBERED_CURSORS) {
      System.arraycopy(cursors, 2, cursors, 0, cursors.length - 2);
      cursorCount--;
    } else if (cursorCount * 2 == cursors.length) {
      cursors = java.util.Arrays.copyOf(cursors, Math.min(REMEMBERED_CURSORS * 2, cursors.length * 2));
    }
    cursors[cursorCount * 2] = c;
    cursors[cursorCount * 2 + 1] = seq;
    cursorCount++;
    return c;
  }

  /** The last sequence a remembered cursor covers; null when {@code cursor} is not one of ours (or forgotten). */
  private Long cursor(long cursor) {
    for (int i = cursorCount - 1; i >= 0; i--) if (cursors[i * 2] == cursor) return cursors[i * 2 + 1];
    return null;
  }

  /** The client has everything up to {@code seq}. */
  private void drop(long seq) {
    if (buffer == null) return;
    while (!buffer.isEmpty() && buffer.peekFirst().seq <= seq) bufferedBytes -= buffer.pollFirst().bytes.length;
    if (buffer.isEmpty()) buffer = null;
  }

  /** Periodic: ends holds that reached their time (or whose token expired: the next poll brings the fresh one), expires idle clients. */
  void sweep(long now) {
    if (closed) return;
    if (heldOn != null) {
      if (now >= heldUntil || session.claims() != null && session.claims().expiredAt(now)) answer(heldOn.response, heldCursor);
      return;
    }
    if (now - lastActivity >= timeoutMs) {
      session.timedOut = true;
      session.disconnect(Disconnect.NO_PONG, "presence timeout");
    }
  }

  // --- channels ------------------------------------------------------------------------------------

  /**
   * Makes the session's subscriptions the poll's channel list (a {@code -pnpres} name stands for its channel, and
   * needs the presence grant); returns the refused names with why. With {@code recoverFrom}, channels subscribed now
   * first recover every stored publication with a timetoken above it.
   */
  private Future<Map<String, ServiceError>> sync(List<String> names, Long recoverFrom) {
    Map<String, ServiceError> denied = new LinkedHashMap<>();
    Set<String> base = new LinkedHashSet<>();
    for (String n : names) {
      if (n.endsWith(PubNubDialect.PRESENCE_SUFFIX)) {
        String ch = n.substring(0, n.length() - PubNubDialect.PRESENCE_SUFFIX.length());
        try {
          loop().access.check(session, ch, ChannelAccess.Op.PRESENCE);
          base.add(SharedClaims.name(ch));
        } catch (ServiceError e) {
          denied.put(n, e);
        }
      } else {
        // the name the subscription keeps: one string for every client of the channel
        base.add(SharedClaims.name(n));
      }
    }
    if (!denied.isEmpty()) return Future.succeededFuture(denied);
    Set<String> wanted = null;
    for (String n : names) {
      if (!n.endsWith(PubNubDialect.PRESENCE_SUFFIX)) continue;
      if (wanted == null) wanted = new HashSet<>(4);
      wanted.add(app().scope(n.substring(0, n.length() - PubNubDialect.PRESENCE_SUFFIX.length())));
    }
    // replaced, not changed in place (readers iterate it); an empty one is the shared empty set
    presenceWanted = wanted == null ? Set.of() : wanted;
    List<String> remove = new ArrayList<>();
    Set<String> current = new HashSet<>();
    for (String scoped : session.channels()) current.add(App.local(scoped));
    for (String ch : current) if (!base.contains(ch)) remove.add(ch);
    if (!remove.isEmpty()) loop().subscriptions.unsubscribe(session, remove);
    List<String> add = new ArrayList<>();
    for (String ch : base) if (!current.contains(ch)) add.add(ch);
    if (add.isEmpty()) return Future.succeededFuture(denied);
    try {
      loop().subscriptions.checkBatch(session.subscriptionCount() + add.size());
    } catch (ServiceError e) {
      for (String ch : add) denied.put(ch, e);
      return Future.succeededFuture(denied);
    }
    if (startPositions != null) for (String ch : remove) startPositions.remove(ch);
    List<Future<Subscriptions.Request>> requests = new ArrayList<>();
    for (String ch : add) requests.add(recoverFrom == null ? Future.succeededFuture(new Subscriptions.Request(ch, null, null)) : recoveryPoint(ch, recoverFrom));
    return Future.all(requests).compose(all -> {
      List<Subscriptions.Request> rs = new ArrayList<>();
      for (Future<Subscriptions.Request> f : requests) rs.add(f.result());
      return loop().subscriptions.subscribe(session, rs);
    }).map(est -> {
      loop().subscriptions.goLive(session, est);
      for (Subscriptions.Outcome o : est.outcomes()) {
        if (!o.ok()) denied.put(o.channel(), o.error());
        else if (o.stored() && recoverFrom == null) {
          if (startPositions == null) startPositions = new LinkedHashMap<>(4);
          startPositions.put(o.channel(), new Start(o.offset(), o.epoch()));
        }
      }
      for (String ch : add) {
        JsonObject st = pendingState == null ? null : pendingState.remove(ch);
        if (st != null && session.subscribed(ch)) loop().ops.setState(session, app(), ch, st);
      }
      return denied;
    });
  }

  /**
   * Where to recover a channel from for a client whose last timetoken was {@code tt}: just before the oldest of the
   * newest 100 stored publications with a newer timetoken (PubNub keeps 100 per channel too). The subscribe that
   * follows is the access decision; this only reads a position (no subscribe grant: the subscribe refuses it).
   */
  private Future<Subscriptions.Request> recoveryPoint(String ch, long tt) {
    try {
      loop().access.check(session, ch, ChannelAccess.Op.SUBSCRIBE);
    } catch (ServiceError e) {
      return Future.succeededFuture(new Subscriptions.Request(ch, null, null));
    }
    JsonObject q = new JsonObject().put("channel", app().scope(ch)).put("limit", MAX_PER_RESPONSE).put("reverse", true);
    DeliveryOptions o = new DeliveryOptions().setSendTimeout(loop().cfg.requestTimeoutMs());
    return loop().bus.<JsonObject>request(Addresses.STORE_HISTORY, q, o).map(m -> {
      JsonArray pubs = m.body().getJsonArray("publications", new JsonArray());
      JsonObject oldestNewer = null;
      for (Object x : pubs) {
        JsonObject p = (JsonObject) x;
        if (Timetokens.of(p) > tt) oldestNewer = p;
        else return new Subscriptions.Request(ch, p.getLong("offset"), p.getString("epoch"));
      }
      if (oldestNewer == null) return new Subscriptions.Request(ch, null, null);
      return new Subscriptions.Request(ch, oldestNewer.getLong("offset") - 1, oldestNewer.getString("epoch"));
    }).otherwise(new Subscriptions.Request(ch, null, null));
  }

  /** States set before the channel's subscription existed (setState right after subscribe), applied once it does. */
  private Map<String, JsonObject> pendingState;

  /**
   * setState: on a subscribed channel at once; on one the client is still subscribing to (the SDK sends setState
   * while its subscribe is in flight), remembered and applied when the subscription is established — after the
   * presence grant is checked, so a refused state is refused now.
   */
  Future<Void> setState(List<String> names, JsonObject state) {
    touch();
    List<Future<?>> fs = new ArrayList<>();
    for (String ch : names) {
      if (session.subscribed(ch)) {
        fs.add(loop().ops.setState(session, app(), ch, state));
      } else {
        try {
          loop().access.check(session, ch, ChannelAccess.Op.PRESENCE);
        } catch (ServiceError e) {
          return Future.failedFuture(e);
        }
        if (pendingState == null) pendingState = new LinkedHashMap<>(4);
        pendingState.put(ch, state);
      }
    }
    return Future.all(fs).mapEmpty();
  }

  /** {@code state} of a subscribe or heartbeat: {@code {channel: {…}}} set on the subscribed channels. */
  Future<Void> applyState(JsonObject state) {
    List<Future<?>> fs = new ArrayList<>();
    for (String ch : state.fieldNames()) {
      if (state.getValue(ch) instanceof JsonObject st && session.subscribed(ch)) {
        fs.add(loop().ops.setState(session, app(), ch, st));
      }
    }
    return Future.all(fs).mapEmpty();
  }

  /** A presence leave of some channels (unsubscribe); the last one also ends the session. */
  void leave(List<String> names) {
    touch();
    chain = chain.transform(ar -> {
      List<String> chs = new ArrayList<>();
      for (String n : names) {
        String ch = n.endsWith(PubNubDialect.PRESENCE_SUFFIX) ? n.substring(0, n.length() - PubNubDialect.PRESENCE_SUFFIX.length()) : n;
        if (session.subscribed(ch) && !chs.contains(ch)) chs.add(ch);
      }
      if (!chs.isEmpty()) loop().subscriptions.unsubscribe(session, chs);
      if (session.subscriptionCount() == 0) {
        if (heldOn != null) answer(heldOn.response, heldCursor);
        session.disconnect(Disconnect.NORMAL, "left every channel");
      }
      return Future.succeededFuture();
    });
  }

  // --- Transport: receive-only, buffered ----------------------------------------------------------

  @Override
  public void listen(Listener l) {
    // the listener is the session (set before this is called): not kept twice
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
  public void write(Encoded frame) {
    if (closed) return;
    ByteBuf wire = frame.wire();
    try {
      int len = wire.readableBytes() - 1; // NDJSON framing: the envelope then '\n'
      byte[] bytes = new byte[len];
      wire.getBytes(wire.readerIndex(), bytes);
      long tt = 0;
      for (int i = PubNubDialect.TT_AT; i < PubNubDialect.TT_AT + PubNubDialect.TT_DIGITS; i++) tt = tt * 10 + (bytes[i] - '0');
      if (buffer == null) buffer = new ArrayDeque<>(4);
      buffer.addLast(new Entry(nextSeq++, bytes, tt));
      bufferedBytes += len;
    } finally {
      wire.release();
    }
    if (bufferedBytes > loop().cfg.maxQueueBytes() && !recovering) {
      session.onOverflow();
      return;
    }
    if (heldOn != null) answer(heldOn.response, heldCursor);
  }

  @Override
  public boolean ping() {
    return false;
  }

  @Override
  public void close(int code, String reason) {
    if (closed) return;
    closed = true;
    if (heldOn != null) answer(heldOn.response, heldCursor);
    buffer = null;
    bufferedBytes = 0;
    session.onClosed();
  }

  @Override
  public void forceClose() {
    close(1000, "closed");
  }

  @Override
  public boolean isOpen() {
    return !closed;
  }

  @Override
  public String header(String name) {
    return null;
  }

  @Override
  public String remoteAddress() {
    return null;
  }

  /** The core is done with the session: forget the client (its next request opens a new one). */
  void sessionClosed() {
    closed = true;
    endpoint.forget(this);
  }
}
