package io.switchboard.gateway.core;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The channel → local subscribers index of one gateway event loop, and the last step of the hot path: a publication
 * from the bus is encoded once and the same bytes are queued on every subscriber's connection.
 *
 * <p>Gap-free order (architecture.md): the bus is at-most-once and, across JVMs, unordered, so per channel the hub
 * tracks the last stored offset it delivered. A publication that skips ahead starts a backfill: later ones wait
 * while the missing range is read from the store, then everything is delivered in offset order; duplicates are
 * dropped. The same backfill runs once shortly after a channel's first subscriber on this loop (the settle check),
 * which covers publications routed before other JVMs learned of this node's interest.
 *
 * <p>Confined to its event loop: no locks. Subscribers are kept in an array list with swap-remove so fan-out
 * iterates a dense array and unsubscribe is O(1).
 */
public final class ChannelHub {
  private static final System.Logger log = System.getLogger(ChannelHub.class.getName());
  /** Delay of the settle check after a channel's first subscriber on this loop. */
  static final long SETTLE_MS = 1000;
  /** Channels per head read of the tail check. */
  static final int TAIL_CHECK_BATCH = 500;
  /** Delay before asking the store again for a range it could not read (it or Redis is down). */
  static final long BACKFILL_RETRY_MS = 500;

  /** Who is told when this loop starts or stops needing a channel (the node-level interest). */
  public interface Interest {
    void channelAdded(String channel);

    void channelRemoved(String channel);
  }

  /** Reads what a channel published after a position: the store's answer for one recovering channel. */
  public interface Backfill {
    Future<JsonObject> after(String channel, long offset, String epoch);
  }

  /**
   * Reads channels' heads: {@code {channels:[{channel, offset, epoch}]}}, a channel the store has no state for left out
   * (a store.heads answer; a store.position answer without recovery has the same shape).
   */
  public interface Heads {
    Future<JsonObject> of(java.util.List<String> channels);
  }

  /** Reads what a channel stored since a moment: a history page in offset order (see GatewayLoop#storedSince). */
  public interface SinceBackfill {
    Future<JsonObject> since(String channel, long sinceMillis);
  }

  private static final class Channel {
    final String name;
    final ArrayList<Subscription> subs = new ArrayList<>(2);
    /** Last stored offset delivered on this loop, or the first subscriber's position; -1 = unknown yet. */
    long offset = -1;
    String epoch;
    /** Non-null while a backfill runs: stored publications that arrived meanwhile, in arrival order. */
    ArrayDeque<Publication> waiting;
    /** Publications that reached this loop for the channel since it got its first subscriber here (the admin's rates). */
    long published;
    /**
     * Earliest anchor of the lazy personal subscriptions that joined while the position was unknown (0 = none): the
     * channel has not read the store, so its first stored publication may have overtaken others since then.
     */
    long lazySince;
    /** A stored publication arrived since the last tail check (such a channel needs none: its next one shows gaps). */
    boolean arrived;
    /**
     * The head a tail check last started a backfill for: when that range could not be recovered (trimmed, expired,
     * recovery off) the offset stays behind it, and the same head must not start the same backfill every period.
     */
    long tailTried = -1;
    /** The {@link #markSync} mark current when its last stored publication arrived (0: none since it was created). */
    int arrivedMark;

    Channel(String name) {
      this.name = name;
    }
  }

  private final Vertx vertx;
  private final Interest interest;
  private final Backfill backfill;
  private final SinceBackfill sinceBackfill;
  private final Map<String, Channel> channels = new HashMap<>();
  /** Bumped by {@link #markSync}; see {@link #checkQuietTails}. */
  private int syncMark;
  /**
   * The keys of {@link #channels}, readable from any thread: the node's fan-out consumer hands a publication only to
   * the loops that have its channel ({@link #has}). Written on this loop's thread next to {@link #channels}, and a
   * channel is added BEFORE its interest is announced and its subscribers' store reads are sent, so a publication
   * stored after those reads finds it here (as it finds the node's interest).
   */
  private final Set<String> names = ConcurrentHashMap.newKeySet();
  private final GatewayMetrics metrics;

  ChannelHub(Vertx vertx, Interest interest, Backfill backfill, SinceBackfill sinceBackfill, GatewayMetrics metrics) {
    this.vertx = vertx;
    this.sinceBackfill = sinceBackfill;
    this.metrics = metrics;
    this.interest = interest;
    this.backfill = backfill;
  }

  /** Local subscribers (sessions) per channel: of the listed channels, or of every channel starting with prefix. */
  public void count(java.util.Collection<String> names, String prefix, Map<String, Integer> into) {
    if (names != null) {
      for (String n : names) {
        Channel ch = channels.get(n);
        if (ch != null) into.merge(n, ch.subs.size(), Integer::sum);
      }
      return;
    }
    for (Channel ch : channels.values()) {
      if (ch.name.startsWith(prefix)) into.merge(ch.name, ch.subs.size(), Integer::sum);
    }
  }

  /** Publications seen per channel on this loop (see {@code Channel.published}), of every channel starting with prefix. */
  public void published(String prefix, Map<String, Long> into) {
    for (Channel ch : channels.values()) {
      if (ch.name.startsWith(prefix)) into.merge(ch.name, ch.published, Math::max);
    }
  }

  /** Whether this loop has subscribers of {@code channel}; any thread (see {@link #names}). */
  public boolean has(String channel) {
    return names.contains(channel);
  }

  void add(Subscription s) {
    Channel ch = channels.get(s.channel);
    if (ch == null) {
      ch = new Channel(s.channel);
      channels.put(s.channel, ch);
      names.add(s.channel);
      interest.channelAdded(s.channel);
    }
    s.hubIndex = ch.subs.size();
    ch.subs.add(s);
    metrics.subscribed();
    if (s.since > 0 && ch.offset < 0) {
      boolean firstLazy = ch.lazySince == 0;
      if (firstLazy || s.since < ch.lazySince) ch.lazySince = s.since;
      // across JVMs this node's interest may reach the store's router after a publication it should have received:
      // the lazy channel's settle check reads what was stored since (in one JVM interest is registered synchronously)
      if (firstLazy && vertx.isClustered()) vertx.setTimer(SETTLE_MS, t -> settle(s.channel));
    }
  }

  void remove(Subscription s) {
    Channel ch = channels.get(s.channel);
    int i = s.hubIndex;
    if (ch == null || i < 0 || i >= ch.subs.size() || ch.subs.get(i) != s) return;
    Subscription last = ch.subs.remove(ch.subs.size() - 1);
    if (last != s) {
      ch.subs.set(i, last);
      last.hubIndex = i;
    }
    s.hubIndex = -1;
    metrics.unsubscribed();
    if (ch.subs.isEmpty()) {
      channels.remove(s.channel);
      names.remove(s.channel);
      interest.channelRemoved(s.channel);
    }
  }

  /**
   * A subscription went live knowing the channel's position (from its store answer). The first one seeds the
   * channel's offset and schedules the settle check; a later one that knows of newer offsets than were delivered
   * here reveals a gap.
   */
  void positionKnown(String channel, long offset, String epoch) {
    Channel ch = channels.get(channel);
    if (ch == null || epoch == null) return;
    if (ch.offset < 0 && ch.lazySince > 0) {
      // lazy subscribers share the channel: seeding the position here would make the hub drop, as seen, publications
      // up to it that they never got. Read what was stored since the earliest of them instead (unless that read is
      // under way); each subscription skips what it already has (Subscription#accept), this one included.
      if (ch.waiting == null) firstUse(ch, null);
      return;
    }
    if (ch.offset < 0 || !Objects.equals(ch.epoch, epoch)) {
      boolean first = ch.offset < 0;
      ch.offset = offset;
      ch.epoch = epoch;
      if (first) vertx.setTimer(SETTLE_MS, t -> settle(channel));
    } else if (offset > ch.offset && ch.waiting == null) {
      startBackfill(ch, null);
    }
  }

  /**
   * The tail check (every {@code gateway.tailCheckMs}, 30 s): the heads of the positioned channels that got no stored
   * publication since the last check are read in batches; a head beyond the offset delivered here (same epoch) starts
   * the backfill a later publication would have started. Gaps are otherwise found by the NEXT publication; when the
   * last ones of a burst were lost on the bus (a member dropped by the cluster for a while, an at-most-once hop), no
   * next one may come, and this bounds how long subscribers wait for them. A failed read is left for the next check.
   */
  void checkTails(Heads heads) {
    java.util.List<String> idle = new ArrayList<>();
    for (Channel ch : channels.values()) {
      if (ch.arrived) ch.arrived = false;
      else if (ch.offset >= 0 && ch.epoch != null && ch.waiting == null) idle.add(ch.name);
    }
    checkTailBatch(heads, idle, 0, () -> {});
  }

  /** Marks now for {@link #checkQuietTails}: stored publications that arrive from here on carry the mark. */
  int markSync() {
    return ++syncMark;
  }

  /**
   * A tail check after the cluster was split: every positioned channel that got no stored publication since
   * {@code mark} ({@link #markSync}), also those busy until the split (what they got may have stopped at any point).
   * A channel that receives publications again needs none: its next one reveals any gap, and its head may run ahead of
   * what is still on its way. The periodic check's bookkeeping is left as it is. {@code done} runs when the last
   * batch was answered.
   */
  void checkQuietTails(Heads heads, int mark, Runnable done) {
    java.util.List<String> quiet = new ArrayList<>();
    for (Channel ch : channels.values()) {
      if (ch.arrivedMark < mark && ch.offset >= 0 && ch.epoch != null && ch.waiting == null) quiet.add(ch.name);
    }
    checkTailBatch(heads, quiet, 0, done);
  }

  /**
   * One batch of the tail check; the next one goes out when it is answered (one head read in flight per check: the
   * periodic one and one after a split may run side by side).
   */
  private void checkTailBatch(Heads heads, java.util.List<String> idle, int from, Runnable done) {
    if (from >= idle.size()) {
      done.run();
      return;
    }
    heads.of(idle.subList(from, Math.min(idle.size(), from + TAIL_CHECK_BATCH))).onComplete(ar -> {
      if (ar.succeeded()) {
        for (Object o : ar.result().getJsonArray("channels", new JsonArray())) {
          JsonObject head = (JsonObject) o;
          Channel ch = channels.get(head.getString("channel"));
          if (ch == null || ch.waiting != null || ch.offset < 0 || !Objects.equals(ch.epoch, head.getString("epoch"))) continue;
          long top = head.getLong("offset", -1L);
          if (top > ch.offset && top != ch.tailTried) {
            ch.tailTried = top;
            metrics.tailBackfills.increment();
            log.log(System.Logger.Level.INFO, "channel " + ch.name + ": the store's head " + top + " is past offset " + ch.offset
                + " delivered here and nothing brought the rest (the tail check): reading the missing tail",
                io.switchboard.common.LogFields.of(io.switchboard.common.LogFields.CHANNEL, ch.name));
            startBackfill(ch, null);
          }
        }
      }
      checkTailBatch(heads, idle, from + TAIL_CHECK_BATCH, done);
    });
  }

  private void settle(String channel) {
    Channel ch = channels.get(channel);
    if (ch == null || ch.waiting != null) return;
    if (ch.offset >= 0) startBackfill(ch, null);
    else if (ch.lazySince > 0) firstUse(ch, null);
  }

  /**
   * Fan-out of one publication from the bus.
   *
   * @return the number of sockets written
   */
  int deliver(Publication p) {
    Channel ch = channels.get(p.channel());
    if (ch == null) return 0;
    ch.published++;
    if (!p.stored()) return fanout(ch, p);
    ch.arrived = true;
    ch.arrivedMark = syncMark;
    if (ch.waiting != null) {
      ch.waiting.add(p);
      return 0;
    }
    if (ch.offset >= 0 && Objects.equals(ch.epoch, p.epoch()) && p.offset() > ch.offset + 1) {
      startBackfill(ch, p);
      return 0;
    }
    if (ch.offset < 0 && ch.lazySince > 0 && p.offset() > 1) {
      firstUse(ch, p);
      return 0;
    }
    return deliverInOrder(ch, p);
  }

  /**
   * The first stored publication of a channel whose subscribers are all lazy (no position read): publications
   * stored since the earliest of them went live may have taken other routes (another store instance, a bus hop
   * across JVMs, the interest announcement still on its way), so they are read from the store once and delivered
   * in offset order before this one and what arrives meanwhile. Each subscription skips those from before its own
   * moment (Subscription#accept). A publication at offset 1 needs no read: nothing came before it in its epoch.
   */
  private void firstUse(Channel ch, Publication trigger) {
    ch.waiting = new ArrayDeque<>();
    if (trigger != null) ch.waiting.add(trigger);
    metrics.backfills.increment();
    sinceBackfill.since(ch.name, ch.lazySince - Subscriptions.CLOCK_SKEW_MS).onComplete(ar -> {
      if (channels.get(ch.name) != ch) return;
      ArrayDeque<Publication> waiting = ch.waiting;
      ch.waiting = null;
      java.util.List<Publication> all = new ArrayList<>(waiting);
      if (ar.succeeded()) {
        JsonArray read = ar.result().getJsonArray("publications", new JsonArray());
        // the trigger's epoch, or (a settle or position read without one) the newest stored publication's
        String epoch = trigger != null ? trigger.epoch()
            : read.isEmpty() ? null : read.getJsonObject(read.size() - 1).getString("epoch");
        for (Object o : read) {
          Publication p = Publication.fromJson((JsonObject) o);
          if (Objects.equals(p.epoch(), epoch)) all.add(p);
        }
      } else {
        log.log(System.Logger.Level.WARNING, "channel " + ch.name + ": could not read what was stored since its lazy "
            + "subscribers went live (" + ar.cause().getMessage() + ")" + (trigger == null ? "" : "; delivering from offset " + trigger.offset()));
      }
      all.sort(java.util.Comparator.comparingLong(Publication::offset));
      for (Publication p : all) {
        if (ch.waiting != null) ch.waiting.add(p); // a gap behind these started a backfill: keep order behind it
        else if (ch.offset < 0) deliverInOrder(ch, p);
        else deliver(p);
      }
    });
  }

  private int deliverInOrder(Channel ch, Publication p) {
    if (ch.offset >= 0 && Objects.equals(ch.epoch, p.epoch()) && p.offset() <= ch.offset) return 0; // seen
    ch.offset = p.offset();
    ch.epoch = p.epoch();
    return fanout(ch, p);
  }

  private void startBackfill(Channel ch, Publication trigger) {
    ch.waiting = new ArrayDeque<>();
    if (trigger != null) ch.waiting.add(trigger);
    metrics.backfills.increment();
    requestBackfill(ch, trigger, false);
  }

  /**
   * Reads the missing range after {@code ch.offset}. Three outcomes: recovered (deliver it, then what waited);
   * the store could not answer (it or Redis is down: the range still exists, so keep holding and ask again after
   * {@link #BACKFILL_RETRY_MS} — asking at once would spin for as long as the outage lasts); or the range is gone
   * (history trimmed or lost: deliver what waited, in order, past the hole — clients that reconnect with their
   * position learn recovered:false from the store; checking for the gap again would ask forever).
   */
  private void requestBackfill(Channel ch, Publication trigger, boolean retry) {
    long from = ch.offset;
    backfill.after(ch.name, from, ch.epoch).onComplete(ar -> {
      if (channels.get(ch.name) != ch) return; // nobody left to deliver to
      JsonObject answer = ar.succeeded() ? ar.result() : null;
      if (unavailable(ar.cause(), answer)) {
        if (!retry && (trigger != null || !ch.waiting.isEmpty())) {
          log.log(System.Logger.Level.WARNING, "channel " + ch.name + ": could not backfill after offset " + from + " ("
              + (ar.failed() ? ar.cause().getMessage() : answer.getJsonObject("error").getString("message")) + "); holding later publications and retrying every "
              + BACKFILL_RETRY_MS + " ms", io.switchboard.common.LogFields.of(io.switchboard.common.LogFields.CHANNEL, ch.name));
        }
        vertx.setTimer(BACKFILL_RETRY_MS, t -> {
          if (channels.get(ch.name) == ch) requestBackfill(ch, trigger, true);
        });
        return;
      }
      ArrayDeque<Publication> waiting = ch.waiting;
      ch.waiting = null;
      if (answer != null && answer.getBoolean("recovered", false)) {
        for (Object o : answer.getJsonArray("publications", new JsonArray())) {
          deliverInOrder(ch, Publication.fromJson((JsonObject) o));
        }
      } else {
        if (!waiting.isEmpty()) {
          log.log(System.Logger.Level.WARNING, "channel " + ch.name + ": could not backfill after offset " + from + " ("
              + (ar.failed() ? ar.cause().getMessage()
                  : answer.containsKey("error") ? answer.getJsonObject("error").getString("message") : "position no longer in history")
              + "); delivering from offset " + waiting.peekFirst().offset(), io.switchboard.common.LogFields.of(io.switchboard.common.LogFields.CHANNEL, ch.name));
        }
        // arrival order across JVMs is not offset order: deliver the held ones sorted, or the first would hide the rest
        waiting.stream().sorted(java.util.Comparator.comparingLong(Publication::offset)).forEach(p -> deliverInOrder(ch, p));
        return;
      }
      for (Publication p : waiting) {
        if (ch.waiting != null) {
          ch.waiting.add(p); // a new gap started another backfill: keep order behind it
        } else {
          deliver(p);
        }
      }
    });
  }

  /** The store could not answer now (down, Redis down, timed out) — as opposed to an answer about the position. */
  private static boolean unavailable(Throwable failure, JsonObject answer) {
    if (failure != null) return ServiceError.from(failure, "message store").code() == ErrorCode.UNAVAILABLE;
    JsonObject error = answer.getJsonObject("error");
    return error != null && ErrorCode.UNAVAILABLE.wire().equals(error.getString("code"));
  }

  /**
   * Whether a session does not get a publication its subscription accepted: the one it was sent by (a Pusher client
   * event, a trigger's socket_id), or a presence event about itself when its dialect does not show those.
   */
  static boolean skips(Session s, Publication p) {
    if (p.exclude() != null && p.exclude().equals(s.id)) return true;
    return p.id() == null && !s.protocol().ownPresenceEvents()
        && p.data() instanceof io.vertx.core.json.JsonObject d && s.id.equals(d.getString("client"));
  }

  /** Encode once per (dialect, framing), queue on every live subscriber; subscribers still subscribing hold it. */
  private int fanout(Channel ch, Publication p) {
    ArrayList<Subscription> subs = ch.subs;
    int written = 0;
    FrameCache frames = new FrameCache(p);
    // backwards: a write can cut a slow consumer, whose close handler later removes it (swap-remove)
    for (int i = subs.size() - 1; i >= 0; i--) {
      if (i >= subs.size()) continue;
      Subscription s = subs.get(i);
      if (!s.live) {
        s.hold(p);
        continue;
      }
      if (!s.accept(p) || skips(s.connection, p)) continue;
      var frame = frames.frameFor(s.connection);
      if (frame == null) continue;
      s.connection.send(frame);
      written++;
    }
    frames.release();
    return written;
  }
}
