package io.switchboard.gateway.protocol.pubnub;

import io.netty.buffer.ByteBuf;
import io.switchboard.common.Addresses;
import io.switchboard.common.App;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.core.ChannelOps;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Endpoint;
import io.switchboard.gateway.transport.Framing;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * PubNub's REST API as the unmodified {@code pubnub} JS SDK (v8–v11) calls it with {@code origin} set to the gateway:
 * time, publish and signal (GET and POST), the subscribe long-poll, presence (heartbeat, leave, state, here-now,
 * where-now) and history (v2 and v3 fetchMessages). Every channel operation goes through the core's
 * {@link io.switchboard.gateway.core.ChannelAccess} as the client's session ({@link PubNubPoller}).
 *
 * <p>Identity: {@code sub_key} and {@code pub_key} are the app's key; {@code auth} is a Switchboard token (checked on
 * every request; a new one refreshes the session, which is what {@code setToken} does); {@code uuid} names the
 * client within the app. One session per (app, uuid) in a gateway JVM, owned by the event loop that opened it:
 * requests for it arriving on other event loops are run on the owner's. (A cluster needs a uuid's requests on one
 * gateway JVM: a load balancer hashing on the {@code uuid} query parameter.)
 *
 * <p>Responses always carry a JSON content type (the SDK cannot parse a response, even an error, without one);
 * errors have PubNub's shape {@code {status, error:true, message, service, payload}} so a 403 becomes the SDK's
 * {@code PNAccessDeniedCategory}.
 */
public final class PubNubEndpoint implements Endpoint {
  static final int DEFAULT_PRESENCE_TIMEOUT_S = 300;
  static final int MIN_PRESENCE_TIMEOUT_S = 5;
  static final int MAX_PRESENCE_TIMEOUT_S = 320;
  /** How long a subscribe poll is held before an empty answer (PubNub: under 310 s). */
  static final long HOLD_MS = 280_000;
  static final int MAX_MESSAGE_BYTES = 32 * 1024;
  /** Largest publish {@code meta} (JSON bytes): it travels with every delivery of the message. */
  static final int MAX_META_BYTES = 4 * 1024;
  /** Default period of {@code interval} presence events (PubNub's default announce interval). */
  static final int DEFAULT_PRESENCE_INTERVAL_S = 10;
  /** Held subscribe polls in this JVM (every gateway of it): a figure for measurements and tests, no decision uses it. */
  private static final AtomicInteger HELD = new AtomicInteger();

  final GatewayLoop loop;
  final PubNubDialect dialect;
  /** This endpoint's event loop's context (its router's requests run on duplicates of it); set by the first request. */
  volatile Context ctx;
  /**
   * Every client of this gateway JVM (shared by its event loops), by app id, then uuid: the uuid string the client
   * keeps is the key (no per-client composite key).
   */
  private final Map<String, Map<String, PubNubPoller>> pollers;
  final AtomicInteger held = HELD;
  final long holdMs;
  /** Period of {@code interval} presence events; 0 = none. */
  private final long intervalMs;

  public PubNubEndpoint(GatewayLoop loop) {
    this.loop = loop;
    this.dialect = new PubNubDialect(loop);
    // one registry per gateway, shared by its event loops (a client's requests may arrive on any of them)
    this.pollers = io.switchboard.gateway.core.GatewayShared.of(loop, "pubnub.clientsByApp", ConcurrentHashMap::new);
    this.holdMs = HOLD_MS;
    JsonObject config = Vertx.currentContext() == null ? new JsonObject() : Vertx.currentContext().config();
    this.intervalMs = config.getJsonObject("gateway", new JsonObject())
        .getLong("pubnubPresenceIntervalSeconds", (long) DEFAULT_PRESENCE_INTERVAL_S) * 1000L;
  }

  /** The longest subscribe {@code filter-expr} accepted (tests). */
  public static int maxFilterLength() {
    return PubNubFilter.MAX_LENGTH;
  }

  /** Subscribe polls held now in this JVM (a figure for load measurements and tests). */
  public static int heldPolls() {
    return HELD.get();
  }

  @Override
  public void routes(Router router) {
    loop.vertx.setPeriodic(1000, id -> sweep());
    if (intervalMs > 0) loop.vertx.setPeriodic(intervalMs, id -> announceOccupancy());
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_MESSAGE_BYTES + 1024);
    router.get("/time/0").handler(rc -> json(rc.response(), 200).end("[\"" + PubNubDialect.pad(Timetokens.now()) + "\"]"));
    router.get("/publish/*").handler(rc -> publish(rc, PubNubDialect.MESSAGE, null));
    router.post("/publish/*").handler(body).handler(rc -> {
      String text = postBody(rc);
      if (text != null) publish(rc, PubNubDialect.MESSAGE, text);
    });
    router.get("/signal/*").handler(rc -> publish(rc, PubNubDialect.SIGNAL, null));
    router.get("/v2/subscribe/*").handler(this::subscribe);
    router.get("/v2/presence/*").handler(this::presence);
    router.get("/v2/history/*").handler(rc -> history(rc, false));
    router.get("/v3/history/*").handler(rc -> history(rc, true));
  }

  // --- requests ------------------------------------------------------------------------------------

  /** The raw path's segments after the first {@code skip}, percent-decoded one by one (a channel may hold %2F). */
  private static List<String> segments(HttpServerRequest req) {
    String path = req.path();
    List<String> out = new ArrayList<>();
    for (String s : path.substring(1).split("/", -1)) out.add(s);
    return out;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static List<String> channels(String segment) {
    List<String> out = new ArrayList<>();
    for (String c : segment.split(",")) if (!c.isEmpty()) out.add(decode(c));
    return out;
  }

  /** The app named by a sub or pub key; null (answered 400) when none. */
  private App app(RoutingContext rc, String key) {
    App app = key == null ? null : loop.apps.byKey(decode(key));
    if (app == null || !app.enabled()) {
      error(rc.response(), 400, "Invalid Subscribe Key: no enabled app has key '" + key + "' (sub_key and pub_key are the app's key)");
      return null;
    }
    return app;
  }

  /** Runs {@code action} on the owning event loop of the client's session once the request's token is accepted. */
  private void withPoller(RoutingContext rc, App app, Consumer<PubNubPoller> action) {
    HttpServerResponse resp = rc.response();
    String uuid = rc.request().getParam("uuid");
    if (uuid == null || uuid.isEmpty() || uuid.length() > 92) {
      error(resp, 400, "uuid is required (the SDK's userId), at most 92 characters");
      return;
    }
    String token = rc.request().getParam("auth");
    if (token == null || token.isEmpty()) {
      forbidden(resp, "no token: pass a Switchboard token as authKey (or setToken)", null);
      return;
    }
    if (loop.draining()) {
      error(resp, 503, "the gateway is draining: retry");
      return;
    }
    attempt(resp, app, uuid, token, action, 2);
  }

  /** On this endpoint's event loop: finds or opens the client's session, then runs on the session's own loop. */
  private void attempt(HttpServerResponse resp, App app, String uuid, String token, Consumer<PubNubPoller> action, int tries) {
    // the loop's own context, not this request's duplicate of it: the client keeps it
    Context home = ((ContextInternal) Vertx.currentContext()).unwrap();
    if (ctx == null) ctx = home;
    Map<String, PubNubPoller> clients = clients(app.id());
    PubNubPoller p = clients.get(uuid);
    if (p == null) {
      PubNubPoller fresh = new PubNubPoller(this, uuid);
      PubNubPoller prev = clients.putIfAbsent(uuid, fresh);
      p = prev == null ? fresh : prev;
    }
    PubNubPoller owner = p;
    Runnable run = () -> {
      if (owner.closed()) {
        clients.remove(uuid, owner);
        if (tries > 0) {
          home.runOnContext(v -> attempt(resp, app, uuid, token, action, tries - 1));
        } else {
          error(resp, 503, "the session closed: retry");
        }
        return;
      }
      owner.authorize(app, token).onComplete(ar -> {
        if (ar.succeeded()) {
          action.accept(owner);
        } else if (owner.closed() && tries > 0 && !(ar.cause() instanceof ServiceError se && se.code() == ErrorCode.TOKEN_EXPIRED)
            && !(ar.cause() instanceof ServiceError se2 && se2.code() == ErrorCode.UNAUTHORIZED)) {
          clients.remove(uuid, owner);
          home.runOnContext(v -> attempt(resp, app, uuid, token, action, tries - 1));
        } else {
          failed(resp, ar.cause(), null);
        }
      });
    };
    if (owner.ctx() == home) run.run();
    else owner.ctx().runOnContext(v -> run.run());
  }

  /** Forgets a client whose session ended. */
  void forget(PubNubPoller p) {
    clients(p.app().id()).remove(p.uuid, p);
  }

  /** The clients of one app (a map per app, kept once made: apps are few). */
  private Map<String, PubNubPoller> clients(String appId) {
    Map<String, PubNubPoller> m = pollers.get(appId);
    return m != null ? m : pollers.computeIfAbsent(appId, k -> new ConcurrentHashMap<>());
  }

  /**
   * Each client of this event loop, found through its session (the loop's sessions are the registry of what this
   * loop owns: no second per-client set). A client's session is registered on its loop as the client is made.
   */
  private void forEachOwned(Consumer<PubNubPoller> action) {
    loop.each(s -> {
      if (s.dialectState instanceof PubNubPoller p && p.endpoint == this) action.accept(p);
    });
  }

  private void sweep() {
    long now = System.currentTimeMillis();
    forEachOwned(p -> p.sweep(now));
  }

  /**
   * PubNub's {@code interval} presence event: every {@code gateway.pubnubPresenceIntervalSeconds}, each client of
   * this event loop subscribed to a {@code <channel>-pnpres} gets {@code {action:"interval", occupancy}} (the distinct
   * subjects present, as here-now counts them). One presence read per channel and loop per interval, and only for
   * channels someone here listens to the presence of.
   */
  private void announceOccupancy() {
    Map<String, List<PubNubPoller>> byChannel = new LinkedHashMap<>();
    forEachOwned(p -> {
      if (p.closed() || p.session == null) return;
      for (String scoped : p.presenceWanted) byChannel.computeIfAbsent(scoped, k -> new ArrayList<>()).add(p);
    });
    DeliveryOptions o = new DeliveryOptions().setSendTimeout(loop.cfg.requestTimeoutMs());
    for (Map.Entry<String, List<PubNubPoller>> e : byChannel.entrySet()) {
      String scoped = e.getKey();
      loop.bus.<JsonObject>request(Addresses.PRESENCE_QUERY, new JsonObject().put("channel", scoped), o).onSuccess(m -> {
        Set<String> subjects = new HashSet<>();
        for (Object x : m.body().getJsonArray("members", new JsonArray())) subjects.add(((JsonObject) x).getString("subject"));
        ByteBuf payload = PubNubDialect.interval(dialect.keyOf(scoped), App.local(scoped), subjects.size(), System.currentTimeMillis());
        Encoded frame = Encoded.frame(Framing.NDJSON, payload);
        payload.release();
        try {
          for (PubNubPoller p : e.getValue()) {
            if (!p.closed() && p.presenceWanted.contains(scoped)) p.session.send(frame);
          }
        } finally {
          frame.release();
        }
      });
    }
  }

  // --- publish and signal --------------------------------------------------------------------------

  /** {@code /publish/{pub}/{sub}/0/{channel}/0/{json}} (or the JSON as the POST body); {@code /signal/…} alike. */
  private void publish(RoutingContext rc, String event, String body) {
    HttpServerResponse resp = rc.response();
    List<String> seg = segments(rc.request());
    boolean post = body != null;
    if (seg.size() != (post ? 6 : 7) && !(post && seg.size() == 7 && seg.get(6).isEmpty())) {
      error(resp, 400, "expected /" + seg.get(0) + "/{pub_key}/{sub_key}/0/{channel}/0" + (post ? "" : "/{json}"));
      return;
    }
    App app = app(rc, seg.get(2));
    if (app == null) return;
    String channel = decode(seg.get(4));
    String text = post ? body : decode(seg.get(6));
    if (text.length() > MAX_MESSAGE_BYTES) {
      error(resp, 413, "message larger than " + MAX_MESSAGE_BYTES + " bytes");
      return;
    }
    Object data;
    try {
      data = Json.decodeValue(text);
    } catch (DecodeException e) {
      error(resp, 400, "Invalid JSON: the message must be JSON");
      return;
    }
    int ttl = 0;
    String ttlParam = rc.request().getParam("ttl");
    if (ttlParam != null && !ttlParam.isEmpty()) {
      try {
        ttl = (int) Math.min(Integer.MAX_VALUE, Long.parseLong(ttlParam) * 3600L);
      } catch (NumberFormatException e) {
        error(resp, 400, "ttl must be a whole number of hours");
        return;
      }
    }
    int ttlSeconds = ttl;
    JsonObject meta = jsonObjectParam(rc, "meta");
    if (meta == null && resp.ended()) return;
    if (meta != null && meta.encode().length() > MAX_META_BYTES) {
      error(resp, 413, "meta larger than " + MAX_META_BYTES + " bytes");
      return;
    }
    // store=0: delivered live, never appended to history (an ephemeral publication: no offset, not recoverable)
    String store = rc.request().getParam("store");
    if (store != null && !store.isEmpty() && !store.equals("0") && !store.equals("1") && !store.equals("true") && !store.equals("false")) {
      error(resp, 400, "store must be 0 or 1");
      return;
    }
    boolean unstored = "0".equals(store) || "false".equals(store);
    // norep (do not replicate to PubNub's other data centres) is accepted and has no effect: a Switchboard
    // cluster is one data centre, and every node of it delivers the publication
    withPoller(rc, app, p -> loop.ops.publish(p.session, app,
            new ChannelOps.PublishCommand(channel, event, data, null, null, ttlSeconds, false, null, null, null, null, meta, unstored))
        .onSuccess(r -> {
          long ms = r.getString("timestamp") == null ? System.currentTimeMillis() : java.time.Instant.parse(r.getString("timestamp")).toEpochMilli();
          long tt = Timetokens.of(ms, r.getLong("offset", 0L));
          json(resp, 200).end("[1,\"Sent\",\"" + PubNubDialect.pad(tt) + "\"]");
        })
        .onFailure(t -> failed(resp, t, List.of(channel))));
  }

  // --- subscribe -----------------------------------------------------------------------------------

  /**
   * A publish POST's body, inflated when the SDK deflated it ({@code Content-Encoding: deflate}, the Node SDK's
   * {@code sendByPost}; {@code gzip} too). The gateway's HTTP server does not decompress request bodies (a decompressor
   * in every connection's pipeline, for the one request kind that is ever compressed): this is the one place that
   * does, bounded like the message. Null when answered with an error (413 past the bound, 400 for a broken stream,
   * 415 for another encoding).
   */
  private static String postBody(RoutingContext rc) {
    io.vertx.core.buffer.Buffer raw = rc.body().buffer();
    byte[] in = raw == null ? new byte[0] : raw.getBytes();
    String encoding = rc.request().getHeader("content-encoding");
    if (encoding == null || encoding.isBlank() || encoding.trim().equalsIgnoreCase("identity")) return new String(in, StandardCharsets.UTF_8);
    String e = encoding.trim().toLowerCase(java.util.Locale.ROOT);
    int limit = MAX_MESSAGE_BYTES + 1024;
    try {
      java.io.InputStream z;
      if (e.equals("deflate")) {
        // zlib-wrapped (RFC 1950, what the SDK sends) or, from some clients, raw deflate (RFC 1951)
        boolean zlib = in.length >= 2 && (in[0] & 0x0f) == 8 && (((in[0] & 0xff) << 8) | (in[1] & 0xff)) % 31 == 0;
        z = new java.util.zip.InflaterInputStream(new java.io.ByteArrayInputStream(in), new java.util.zip.Inflater(!zlib));
      } else if (e.equals("gzip") || e.equals("x-gzip")) {
        z = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(in));
      } else {
        error(rc.response(), 415, "Content-Encoding " + io.switchboard.common.Channels.abbreviate(encoding) + " is not supported: send deflate, gzip or an uncompressed body");
        return null;
      }
      try (z) {
        byte[] out = z.readNBytes(limit + 1);
        if (out.length > limit) {
          error(rc.response(), 413, "message larger than " + MAX_MESSAGE_BYTES + " bytes (inflated)");
          return null;
        }
        return new String(out, StandardCharsets.UTF_8);
      }
    } catch (java.io.IOException | RuntimeException x) {
      error(rc.response(), 400, "Content-Encoding " + e + ": the body is not a valid " + e + " stream");
      return null;
    }
  }

  /** {@code /v2/subscribe/{sub_key}/{channels}/0?tt&tr&heartbeat&state}. */
  private void subscribe(RoutingContext rc) {
    HttpServerResponse resp = rc.response();
    HttpServerRequest req = rc.request();
    List<String> seg = segments(req);
    if (seg.size() != 5) {
      error(resp, 400, "expected /v2/subscribe/{sub_key}/{channels}/0");
      return;
    }
    App app = app(rc, seg.get(2));
    if (app == null) return;
    String groups = req.getParam("channel-group");
    if (groups != null && !groups.isEmpty() || ",".equals(seg.get(3))) {
      error(resp, 400, "channel groups are not supported: subscribe to channels by name");
      return;
    }
    String filterText = req.getParam("filter-expr");
    PubNubFilter filter = null;
    if (filterText != null && !filterText.isEmpty()) {
      try {
        filter = PubNubFilter.parse(filterText);
      } catch (PubNubFilter.Invalid e) {
        error(resp, 400, e.getMessage());
        return;
      }
    }
    PubNubFilter chosen = filter;
    List<String> names = channels(seg.get(3));
    if (names.isEmpty()) {
      error(resp, 400, "no channel to subscribe to");
      return;
    }
    Long tt = Timetokens.parse(req.getParam("tt"));
    if (tt != null && tt < 0) {
      error(resp, 400, "tt must be a timetoken (digits)");
      return;
    }
    Integer heartbeat = heartbeat(rc);
    if (heartbeat != null && heartbeat < 0) return;
    JsonObject state = jsonObjectParam(rc, "state");
    if (state == null && resp.ended()) return;
    io.vertx.core.Context connection = Vertx.currentContext();
    withPoller(rc, app, p -> {
      if (heartbeat != null) p.timeoutMs = heartbeat * 1000;
      // the latest subscribe's filter applies to what is delivered from now on (the SDK sends it on every poll)
      if (chosen == null || p.filter == null || !p.filter.text().equals(chosen.text())) p.filter = chosen;
      p.poll(req, connection, names, tt, state);
    });
    // no req.params() past here: a poll held already (the client's loop is this one) has been lightened, its decoded
    // parameters dropped, and asking for them would decode them again into a new map kept for the hold
  }

  /** The {@code heartbeat} parameter clamped to the allowed presence timeouts; null when absent, -1 (answered) when bad. */
  private static Integer heartbeat(RoutingContext rc) {
    String h = rc.request().getParam("heartbeat");
    if (h == null || h.isEmpty()) return null;
    try {
      long v = Long.parseLong(h);
      return (int) Math.max(MIN_PRESENCE_TIMEOUT_S, Math.min(MAX_PRESENCE_TIMEOUT_S, v));
    } catch (NumberFormatException e) {
      error(rc.response(), 400, "heartbeat must be a number of seconds");
      return -1;
    }
  }

  /** A JSON-object query parameter; null when absent (or, with the response ended, when bad). */
  private static JsonObject jsonObjectParam(RoutingContext rc, String name) {
    String s = rc.request().getParam(name);
    if (s == null || s.isEmpty()) return null;
    try {
      return new JsonObject(s);
    } catch (DecodeException | ClassCastException e) {
      error(rc.response(), 400, name + " must be a JSON object");
      return null;
    }
  }

  // --- presence ------------------------------------------------------------------------------------

  /** Everything under {@code /v2/presence/sub-key/{sub}/…}. */
  private void presence(RoutingContext rc) {
    HttpServerResponse resp = rc.response();
    List<String> seg = segments(rc.request());
    if (seg.size() < 4 || !"sub-key".equals(seg.get(2))) {
      error(resp, 400, "expected /v2/presence/sub-key/{sub_key}/…");
      return;
    }
    App app = app(rc, seg.get(3));
    if (app == null) return;
    if (seg.size() == 6 && "uuid".equals(seg.get(4))) {
      whereNow(rc, app, decode(seg.get(5)));
      return;
    }
    if (seg.size() < 6 || !"channel".equals(seg.get(4))) {
      error(resp, 400, "global here-now and channel groups are not supported: name the channels");
      return;
    }
    List<String> names = channels(seg.get(5));
    if (names.isEmpty()) {
      error(resp, 400, "no channel named");
      return;
    }
    if (seg.size() == 7 && "heartbeat".equals(seg.get(6))) {
      Integer heartbeat = heartbeat(rc);
      if (heartbeat != null && heartbeat < 0) return;
      JsonObject state = jsonObjectParam(rc, "state");
      if (state == null && resp.ended()) return;
      withPoller(rc, app, p -> {
        p.touch();
        if (heartbeat != null) p.timeoutMs = heartbeat * 1000;
        Future<Void> f = state == null ? Future.succeededFuture() : p.applyState(state);
        f.onComplete(ar -> ok(resp, null));
      });
    } else if (seg.size() == 7 && "leave".equals(seg.get(6))) {
      withPoller(rc, app, p -> {
        p.leave(names);
        json(resp, 200).end(new JsonObject().put("status", 200).put("message", "OK").put("action", "leave").put("service", "Presence").encode());
      });
    } else if (seg.size() == 9 && "uuid".equals(seg.get(6)) && "data".equals(seg.get(8))) {
      JsonObject state = jsonObjectParam(rc, "state");
      if (resp.ended()) return;
      JsonObject st = state == null ? new JsonObject() : state;
      withPoller(rc, app, p -> {
        if (!p.uuid.equals(decode(seg.get(7)))) {
          forbidden(resp, "a client sets only its own state (uuid " + p.uuid + ")", names);
          return;
        }
        p.setState(names, st).onSuccess(v -> ok(resp, st)).onFailure(t -> failed(resp, t, names));
      });
    } else if (seg.size() == 8 && "uuid".equals(seg.get(6))) {
      String who = decode(seg.get(7));
      withPoller(rc, app, p -> members(p, app, names).onSuccess(byChannel -> {
        JsonObject states = new JsonObject();
        for (Map.Entry<String, List<JsonObject>> e : byChannel.entrySet()) {
          JsonObject st = new JsonObject();
          for (JsonObject m : e.getValue()) if (who.equals(m.getString("subject")) && !m.getJsonObject("state", new JsonObject()).isEmpty()) st = m.getJsonObject("state");
          states.put(e.getKey(), st);
        }
        JsonObject out = new JsonObject().put("status", 200).put("message", "OK").put("uuid", who).put("service", "Presence");
        if (names.size() == 1) out.put("channel", names.get(0)).put("payload", states.getJsonObject(names.get(0)));
        else out.put("payload", new JsonObject().put("channels", states));
        json(resp, 200).end(out.encode());
      }).onFailure(t -> failed(resp, t, names)));
    } else if (seg.size() == 6) {
      boolean withUuids = !"1".equals(rc.request().getParam("disable_uuids"));
      boolean withState = "1".equals(rc.request().getParam("state"));
      withPoller(rc, app, p -> members(p, app, names).onSuccess(byChannel -> {
        JsonObject chans = new JsonObject();
        int total = 0;
        for (Map.Entry<String, List<JsonObject>> e : byChannel.entrySet()) {
          Map<String, JsonObject> bySubject = new LinkedHashMap<>();
          for (JsonObject m : e.getValue()) {
            JsonObject prev = bySubject.get(m.getString("subject"));
            if (prev == null || prev.getJsonObject("state", new JsonObject()).isEmpty()) bySubject.put(m.getString("subject"), m);
          }
          JsonObject c = new JsonObject().put("occupancy", bySubject.size());
          if (withUuids) {
            JsonArray uuids = new JsonArray();
            for (JsonObject m : bySubject.values()) {
              if (withState) uuids.add(new JsonObject().put("uuid", m.getString("subject")).put("state", m.getJsonObject("state", new JsonObject())));
              else uuids.add(m.getString("subject"));
            }
            c.put("uuids", uuids);
          }
          total += bySubject.size();
          chans.put(e.getKey(), c);
        }
        JsonObject out = new JsonObject().put("status", 200).put("message", "OK").put("service", "Presence");
        if (names.size() == 1) {
          JsonObject c = chans.getJsonObject(names.get(0));
          out.put("occupancy", c.getInteger("occupancy"));
          if (withUuids) out.put("uuids", c.getJsonArray("uuids"));
        } else {
          out.put("payload", new JsonObject().put("channels", chans).put("total_channels", names.size()).put("total_occupancy", total));
        }
        json(resp, 200).end(out.encode());
      }).onFailure(t -> failed(resp, t, names)));
    } else {
      error(resp, 400, "unknown presence call " + rc.request().path());
    }
  }

  /** The presence members of each channel (the core's presence read: the one access decision). */
  private Future<Map<String, List<JsonObject>>> members(PubNubPoller p, App app, List<String> names) {
    List<Future<JsonObject>> fs = new ArrayList<>();
    for (String ch : names) fs.add(p.session.presenceSettled().compose(v -> loop.ops.presence(p.session, app, ch)));
    return Future.all(fs).map(all -> {
      Map<String, List<JsonObject>> out = new LinkedHashMap<>();
      for (int i = 0; i < names.size(); i++) {
        List<JsonObject> ms = new ArrayList<>();
        for (Object o : fs.get(i).result().getJsonArray("members", new JsonArray())) ms.add((JsonObject) o);
        out.put(names.get(i), ms);
      }
      return out;
    });
  }

  /** {@code /v2/presence/sub-key/{sub}/uuid/{uuid}}: the channels a client of this gateway JVM is subscribed to. */
  private void whereNow(RoutingContext rc, App app, String who) {
    HttpServerResponse resp = rc.response();
    withPoller(rc, app, asker -> {
      PubNubPoller target = clients(app.id()).get(who);
      if (target == null) {
        ok(resp, new JsonObject().put("channels", new JsonArray()));
        return;
      }
      target.ctx().runOnContext(v -> {
        List<String> chs = new ArrayList<>();
        if (!target.closed()) for (String scoped : target.session.channels()) chs.add(App.local(scoped));
        // only the channels whose presence the asker may see (the one access decision, on the asker's loop)
        asker.ctx().runOnContext(w -> {
          JsonArray visible = new JsonArray();
          for (String ch : chs) {
            try {
              loop.access.check(asker.session, ch, io.switchboard.gateway.core.ChannelAccess.Op.PRESENCE);
              visible.add(ch);
            } catch (ServiceError e) {
              // not shown
            }
          }
          ok(resp, new JsonObject().put("channels", visible));
        });
      });
    });
  }

  // --- history -------------------------------------------------------------------------------------

  /** {@code /v2/history/sub-key/{sub}/channel/{ch}} and {@code /v3/history/sub-key/{sub}/channel/{chs}} (fetchMessages). */
  private void history(RoutingContext rc, boolean v3) {
    HttpServerResponse resp = rc.response();
    HttpServerRequest req = rc.request();
    List<String> seg = segments(req);
    if (seg.size() != 6 || !"sub-key".equals(seg.get(2)) || !"channel".equals(seg.get(4))) {
      error(resp, 400, "expected /" + seg.get(0) + "/history/sub-key/{sub_key}/channel/{channel" + (v3 ? "s" : "") + "}");
      return;
    }
    App app = app(rc, seg.get(3));
    if (app == null) return;
    List<String> names = channels(seg.get(5));
    if (names.isEmpty() || !v3 && names.size() > 1) {
      error(resp, 400, v3 ? "no channel named" : "history reads one channel (fetchMessages reads several)");
      return;
    }
    Long start = Timetokens.parse(req.getParam("start"));
    Long end = Timetokens.parse(req.getParam("end"));
    if (start != null && start < 0 || end != null && end < 0) {
      error(resp, 400, "start and end must be timetokens (digits)");
      return;
    }
    int cap = v3 && names.size() > 1 ? 25 : 100;
    String maxParam = req.getParam(v3 ? "max" : "count");
    int max;
    try {
      max = maxParam == null || maxParam.isEmpty() ? cap : Math.max(1, Math.min(cap, Integer.parseInt(maxParam)));
    } catch (NumberFormatException e) {
      error(resp, 400, (v3 ? "max" : "count") + " must be a number");
      return;
    }
    boolean withUuid = !"false".equals(req.getParam("include_uuid"));
    boolean withMeta = "true".equals(req.getParam("include_meta"));
    boolean withToken = v3 || "true".equals(req.getParam("include_token"));
    withPoller(rc, app, p -> {
      List<Future<List<JsonObject>>> fs = new ArrayList<>();
      for (String ch : names) fs.add(read(p, app, ch, max, start, end));
      Future.all(fs).onSuccess(all -> {
        if (v3) {
          JsonObject chans = new JsonObject();
          for (int i = 0; i < names.size(); i++) {
            JsonArray items = new JsonArray();
            for (JsonObject pub : fs.get(i).result()) items.add(item(pub, withUuid, withMeta));
            chans.put(names.get(i), items);
          }
          json(resp, 200).end(new JsonObject().put("status", 200).put("error", false).put("error_message", "").put("channels", chans).encode());
        } else {
          List<JsonObject> pubs = fs.get(0).result();
          JsonArray items = new JsonArray();
          for (JsonObject pub : pubs) {
            if (withToken || withMeta) {
              JsonObject it = new JsonObject().put("message", pub.getValue("data")).put("timetoken", PubNubDialect.pad(Timetokens.of(pub)));
              if (withMeta) it.put("meta", pub.getValue("meta") instanceof JsonObject m ? m : "");
              items.add(it);
            } else {
              items.add(pub.getValue("data"));
            }
          }
          long first = pubs.isEmpty() ? 0 : Timetokens.of(pubs.get(0));
          long last = pubs.isEmpty() ? 0 : Timetokens.of(pubs.get(pubs.size() - 1));
          json(resp, 200).end(new JsonArray().add(items).add(first).add(last).encode());
        }
      }).onFailure(t -> failed(resp, t, names));
    });
  }

  private static JsonObject item(JsonObject pub, boolean withUuid, boolean withMeta) {
    JsonObject it = new JsonObject().put("message", pub.getValue("data")).put("timetoken", PubNubDialect.pad(Timetokens.of(pub)));
    JsonObject src = pub.getJsonObject("source");
    if (withUuid && src != null) it.put("uuid", src.getString("id"));
    it.put("message_type", PubNubDialect.SIGNAL.equals(pub.getString("event")) ? 1 : null);
    if (withMeta) it.put("meta", pub.getValue("meta") instanceof JsonObject m ? m : "");
    return it;
  }

  /**
   * Up to {@code max} stored publications of a channel, oldest first: the newest ones, older than {@code start}
   * (exclusive) and from {@code end} (inclusive) when given. Reads one store page ({@code maxHistoryLimit}) per call.
   */
  private Future<List<JsonObject>> read(PubNubPoller p, App app, String ch, int max, Long start, Long end) {
    boolean bounded = start != null || end != null;
    int limit = bounded ? loop.cfg.maxHistoryLimit() : max;
    Long sinceTime = end == null ? null : Timetokens.millis(end);
    ChannelOps.HistoryQuery q = new ChannelOps.HistoryQuery(ch, null, null, sinceTime, limit, true, null);
    return loop.ops.history(p.session, app, q).map(page -> {
      List<JsonObject> newestFirst = new ArrayList<>();
      for (Object o : page.getJsonArray("publications", new JsonArray())) {
        JsonObject pub = (JsonObject) o;
        long tt = Timetokens.of(pub);
        if (start != null && tt >= start || end != null && tt < end) continue;
        if (newestFirst.size() < max) newestFirst.add(pub);
      }
      Collections.reverse(newestFirst);
      return newestFirst;
    });
  }

  // --- responses -----------------------------------------------------------------------------------

  static HttpServerResponse json(HttpServerResponse resp, int status) {
    return resp.setStatusCode(status)
        .putHeader("content-type", "application/json; charset=UTF-8")
        .putHeader("cache-control", "no-cache")
        .putHeader("access-control-allow-origin", "*");
  }

  private static void ok(HttpServerResponse resp, JsonObject payload) {
    JsonObject out = new JsonObject().put("status", 200).put("message", "OK").put("service", "Presence");
    if (payload != null) out.put("payload", payload);
    json(resp, 200).end(out.encode());
  }

  static void error(HttpServerResponse resp, int status, String message) {
    if (resp.ended() || resp.closed()) return;
    json(resp, status).end(new JsonObject().put("status", status).put("error", true).put("message", message)
        .put("service", status == 403 ? "Access Manager" : "Switchboard").encode());
  }

  /** 403 in PubNub's shape (the SDK's PNAccessDeniedCategory), naming the channels refused. */
  static void forbidden(HttpServerResponse resp, String message, List<String> channels) {
    if (resp.ended() || resp.closed()) return;
    JsonObject payload = new JsonObject();
    if (channels != null) payload.put("channels", new JsonArray(channels));
    json(resp, 403).end(new JsonObject().put("status", 403).put("error", true).put("message", "Forbidden: " + message)
        .put("service", "Access Manager").put("payload", payload).encode());
  }

  /** Channels a subscribe could not take: 403 when any was refused for access, else 400 naming the first error. */
  static void denied(HttpServerResponse resp, Map<String, ServiceError> refused) {
    List<String> chs = new ArrayList<>(refused.keySet());
    ServiceError first = refused.values().iterator().next();
    for (ServiceError e : refused.values()) {
      if (forbids(e)) {
        forbidden(resp, e.getMessage(), chs);
        return;
      }
    }
    error(resp, first.code().httpStatus() == 429 ? 400 : first.code().httpStatus() >= 500 ? 503 : 400,
        first.getMessage() + " (" + String.join(",", chs) + ")");
  }

  private static boolean forbids(ServiceError e) {
    return e.code() == ErrorCode.PERMISSION_DENIED || e.code() == ErrorCode.UNAUTHORIZED || e.code() == ErrorCode.TOKEN_EXPIRED;
  }

  /** A failed operation in PubNub's shapes: access → 403, rate limit → 429, the rest → 400 (or 503 when unavailable). */
  static void failed(HttpServerResponse resp, Throwable t, List<String> channels) {
    ServiceError e = t instanceof ServiceError se ? se : ServiceError.from(t, "gateway");
    if (forbids(e)) {
      forbidden(resp, e.getMessage(), channels);
    } else if (e.code() == ErrorCode.RATE_LIMITED || e.code() == ErrorCode.LIMIT_EXCEEDED) {
      if (!resp.ended()) resp.putHeader("retry-after", "1");
      error(resp, 429, e.getMessage());
    } else if (e.code() == ErrorCode.UNAVAILABLE || e.code() == ErrorCode.INTERNAL) {
      error(resp, 503, e.getMessage());
    } else {
      error(resp, e.code() == ErrorCode.TOO_LARGE ? 413 : 400, e.getMessage());
    }
  }
}
