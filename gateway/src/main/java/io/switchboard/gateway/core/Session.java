package io.switchboard.gateway.core;

import io.switchboard.common.App;
import io.netty.buffer.ByteBuf;
import io.switchboard.gateway.Claims;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Transport;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/**
 * One client session, independent of protocol and transport: who it is, its state, its subscriptions and limits.
 * Its {@link SessionProtocol} (a dialect) reads what the client sends and encodes what it receives; its
 * {@link Transport} moves the bytes. Confined to the event loop that accepted it.
 */
public final class Session implements Caller, Transport.Listener {
  /** OPEN → CONNECTING (verifying credentials) → CONNECTED → CLOSING; CLOSING is final. */
  public enum State { OPEN, CONNECTING, CONNECTED, CLOSING }

  public final String id;
  public final GatewayLoop loop;
  public final Transport transport;
  public final App app;
  final long openedAt;
  private final SessionProtocol protocol;
  private State state = State.OPEN;
  private Claims claims;
  final SessionSubscriptions subscriptions = new SessionSubscriptions();

  /** Last time anything arrived from the client, for liveness. */
  long lastSeen;
  /** When the outstanding ping was sent, 0 when none is outstanding. */
  long pingSentAt;
  long nextPingAt;
  /** When the server started closing this session; 0 when it did not (or has already cut it). */
  private long closingSince;
  static final long CLOSE_GRACE_MS = 1000;

  /**
   * The publish rate bucket and the violation window, made on the first publish or violation (many sessions only
   * receive: a PubNub client waiting in its poll, an idle subscriber). A bucket made then is full, exactly as one
   * made with the session would be by that time (it refills to the burst and never above).
   */
  private Limits limits;

  private static final class Limits {
    // publish rate limit: token bucket
    double tokens;
    long tokensAt;
    // protocol violations in the current window
    int violations;
    long violationWindowStart;
  }

  private Limits limits(long now) {
    Limits l = limits;
    if (l == null) {
      l = limits = new Limits();
      l.tokens = loop.cfg.publishBurst();
      l.tokensAt = now;
    }
    return l;
  }

  /** Capabilities authorized per channel by a dialect-verified signature; see {@link Caller#channelAuthorization}. */
  private java.util.function.Function<String, java.util.Set<io.switchboard.common.Capability>> channelAuthorizer;

  /** Installs the dialect's per-channel authorization (Pusher). */
  public void channelAuthorizer(java.util.function.Function<String, java.util.Set<io.switchboard.common.Capability>> f) {
    this.channelAuthorizer = f;
  }

  @Override
  public java.util.Set<io.switchboard.common.Capability> channelAuthorization(String channel) {
    return channelAuthorizer == null ? null : channelAuthorizer.apply(channel);
  }

  /**
   * Whether this session's subscriptions make it a presence member. False for a long-poll's short-lived session: a
   * polling client is kept present by its HTTP heartbeats instead, so polls never flap join/leave.
   */
  public boolean joinsPresence = true;

  /** A dialect's per-session state (Pusher's socket id and user, Centrifuge's delta bookkeeping…). */
  public Object dialectState;

  /**
   * Set by a dialect before it ends a session whose client went silent (PubNub: no poll or heartbeat for its
   * presence timeout): the presence channels it leaves announce a timeout, not a leave.
   */
  public boolean timedOut;

  public Session(String id, GatewayLoop loop, App app, Transport transport, SessionProtocol protocol) {
    long now = System.currentTimeMillis();
    this.id = id;
    this.loop = loop;
    this.app = app;
    this.transport = transport;
    this.protocol = protocol;
    this.openedAt = now;
    this.lastSeen = now;
    this.nextPingAt = nextPing(now);
  }

  public SessionProtocol protocol() {
    return protocol;
  }

  public State state() {
    return state;
  }

  public boolean connected() {
    return state == State.CONNECTED;
  }

  public boolean closing() {
    return state == State.CLOSING;
  }

  /** Credentials are being verified: no second connect meanwhile. */
  public void connecting() {
    if (state == State.OPEN) state = State.CONNECTING;
  }

  /** Verification failed or was abandoned: back to OPEN (unless closing). */
  public void notConnected() {
    if (state == State.CONNECTING) state = State.OPEN;
  }

  /** Becomes CONNECTED with verified claims. */
  public void connected(Claims c) {
    if (state == State.CLOSING) return;
    if (this.claims == null) loop.metrics.clientUp(c, app);
    this.claims = c;
    state = State.CONNECTED;
  }

  /** Replaces the claims after a refresh (same subject). */
  public void refreshed(Claims c) {
    this.claims = c;
  }

  @Override
  public Claims claims() {
    return claims;
  }

  @Override
  public String subject() {
    return claims == null ? null : claims.subject();
  }

  @Override
  public String clientId() {
    return id;
  }

  @Override
  public boolean subscribed(String channel) {
    // the caller names channels as its app sees them; subscriptions are keyed by the scoped name
    return subscriptions.containsKey(app.scope(channel));
  }

  public int subscriptionCount() {
    return subscriptions.size();
  }

  /**
   * The subscribed channels (scoped names), a snapshot. Not the map's key view: a view stays cached in the map for
   * the session's life (16 B for every session, most of which never ask).
   */
  public Iterable<String> channels() {
    java.util.List<String> out = new java.util.ArrayList<>(subscriptions.size());
    subscriptions.forEach((channel, s) -> out.add(channel));
    return out;
  }

  // --- from the transport --------------------------------------------------------------------------

  @Override
  public void onText(String text) {
    lastSeen = System.currentTimeMillis();
    if (state == State.CLOSING) return;
    protocol.onText(this, text);
  }

  @Override
  public void onBinary(int bytes) {
    lastSeen = System.currentTimeMillis();
    if (state == State.CLOSING) return;
    protocol.onBinary(this, bytes);
  }

  @Override
  public void onPong() {
    alive();
  }

  /**
   * When to ping next: up to an eighth of the interval early, at random. Clients that connected together (a reconnect
   * storm, a deploy) would otherwise be pinged in the same sweep every interval, and their pongs would arrive together:
   * thousands of writes and reads in one tick of the loop. Never later than the interval, which the dialects promise.
   */
  private long nextPing(long now) {
    long interval = protocol.pingIntervalMs(loop.cfg);
    return now + interval - java.util.concurrent.ThreadLocalRandom.current().nextLong(interval / 8 + 1);
  }

  /** The client showed it is alive (a transport pong, or a protocol-level pong). */
  public void alive() {
    long now = System.currentTimeMillis();
    lastSeen = now;
    pingSentAt = 0;
    nextPingAt = nextPing(now);
  }

  @Override
  public void onOverflow() {
    disconnect(Disconnect.SLOW_CONSUMER, "slow consumer");
  }

  @Override
  public void onTransportError(Transport.TransportError error, String message) {
    disconnect(switch (error) {
      case TOO_LARGE -> Disconnect.TOO_LARGE;
      case INVALID_UTF8 -> Disconnect.INVALID_UTF8;
      case PROTOCOL_ERROR -> Disconnect.BAD_FRAMING;
    }, message);
  }

  @Override
  public void onClosed() {
    state = State.CLOSING;
    loop.closed(this);
  }

  // --- to the client -------------------------------------------------------------------------------

  /** Queues a framed message (shared frames from the fan-out, or one of this session's own). */
  public void send(Encoded frame) {
    if (state == State.CLOSING) return;
    transport.write(frame);
  }

  /** Frames and queues a payload made for this session only (a reply); the payload stays the caller's. */
  public void sendPayload(ByteBuf payload) {
    if (state == State.CLOSING) return;
    Encoded e = Encoded.frame(transport.framing(), payload);
    transport.write(e);
    e.release();
  }

  /**
   * Ends the session: the dialect's goodbye message, then the transport's close with the dialect's code. The close
   * is bounded: a client that reads nothing any more cannot hold the socket open — the sweep cuts it once
   * {@link #CLOSE_GRACE_MS} have passed.
   */
  public void disconnect(Disconnect reason, String text) {
    if (state == State.CLOSING) return;
    state = State.CLOSING;
    closingSince = System.currentTimeMillis();
    int code = protocol.closeCode(reason);
    loop.metrics.disconnect(code, reason);
    if (!transport.isOpen()) return;
    ByteBuf bye = protocol.goodbye(reason, code, text);
    if (bye != null) {
      Encoded e = Encoded.frame(transport.framing(), bye);
      transport.write(e);
      e.release();
      bye.release();
    }
    transport.close(code, text);
  }

  /** Cuts the connection of a client that did not complete the close within the grace period. */
  void forceCloseIfLingering(long now) {
    if (state == State.CLOSING && closingSince > 0 && now - closingSince >= CLOSE_GRACE_MS) {
      closingSince = 0;
      transport.forceClose();
    }
  }

  // --- limits --------------------------------------------------------------------------------------

  @Override
  public long takePublishToken(long now) {
    double rate = loop.cfg.publishRatePerSecond();
    int burst = loop.cfg.publishBurst();
    Limits l = limits(now);
    l.tokens = Math.min(burst, l.tokens + (now - l.tokensAt) * rate / 1000.0);
    l.tokensAt = now;
    if (l.tokens >= 1) {
      l.tokens -= 1;
      return 0;
    }
    return Math.max(1, (long) Math.ceil((1 - l.tokens) * 1000.0 / rate));
  }

  /** Counts a protocol violation; past the limit for the window the session is closed (protocol violation). */
  public void violation() {
    long now = System.currentTimeMillis();
    Limits l = limits(now);
    if (now - l.violationWindowStart > loop.cfg.violationWindowMs()) {
      l.violationWindowStart = now;
      l.violations = 0;
    }
    if (++l.violations >= loop.cfg.violationLimit()) disconnect(Disconnect.PROTOCOL_VIOLATION, "too many protocol violations");
  }

  // --- presence ------------------------------------------------------------------------------------

  /**
   * This session's presence changes, in order: each join/leave waits for the previous one's answer, so with several
   * presence-service instances a quick leave can never overtake its join and leave a ghost member.
   */
  private Future<?> presenceChain = Future.succeededFuture();

  void presence(String address, JsonObject change) {
    presenceChain = presenceChain.transform(ar -> loop.request(address, change, PRESENCE_DELIVERY));
  }

  /** Completes when every presence change sent so far has been answered (e.g. before reading the members). */
  public Future<?> presenceSettled() {
    return presenceChain.transform(ar -> Future.succeededFuture());
  }

  boolean hasPresence() {
    for (Subscription s : subscriptions.values()) {
      if (s.presence) return true;
    }
    return false;
  }

  private static final DeliveryOptions PRESENCE_DELIVERY = new DeliveryOptions().setSendTimeout(5_000);
}
