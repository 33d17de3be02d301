package io.switchboard.gateway.protocol.centrifuge;

import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What the Centrifuge dialect keeps per session (in {@code Session.dialectState}); confined to the session's loop. */
final class CentrifugeSession {
  /** The options a client subscription negotiated, by scoped channel name (client-side subscriptions only). */
  private final Map<String, Sub> subs = new HashMap<>(4);
  /** How many of them use deltas or join/leave: with none, a delivery needs no lookup (the common case). */
  int deltaSubs;
  int joinLeaveSubs;
  /** A server ping ({@code {}}) was sent and its pong has not come. */
  boolean pingOutstanding;
  /** Commands that arrived while connect was being verified, replayed in order once it is done. */
  List<JsonObject> waiting;
  /** On an emulation transport: where this session's {@code /emulation} requests arrive. */
  MessageConsumer<String> emulationInbox;

  static final class Sub {
    final boolean delta;
    final boolean joinLeave;
    /** Offset and epoch of the last publication this subscription was sent; -1 = none since it subscribed. */
    long lastOffset = -1;
    String lastEpoch;

    Sub(boolean delta, boolean joinLeave) {
      this.delta = delta;
      this.joinLeave = joinLeave;
    }
  }

  Sub sub(String scoped) {
    return subs.get(scoped);
  }

  void add(String scoped, Sub sub) {
    Sub old = subs.put(scoped, sub);
    if (old != null) count(old, -1);
    count(sub, 1);
  }

  Sub remove(String scoped) {
    Sub sub = subs.remove(scoped);
    if (sub != null) count(sub, -1);
    return sub;
  }

  /** Removes every subscription; returns the scoped channels that had deltas. */
  List<String> clear() {
    List<String> delta = new ArrayList<>();
    for (var e : subs.entrySet()) {
      if (e.getValue().delta) delta.add(e.getKey());
    }
    subs.clear();
    deltaSubs = 0;
    joinLeaveSubs = 0;
    return delta;
  }

  private void count(Sub sub, int d) {
    if (sub.delta) deltaSubs += d;
    if (sub.joinLeave) joinLeaveSubs += d;
  }

  void hold(JsonObject command) {
    if (waiting == null) waiting = new ArrayList<>(2);
    waiting.add(command);
  }

  List<JsonObject> takeWaiting() {
    List<JsonObject> w = waiting;
    waiting = null;
    return w == null ? List.of() : w;
  }
}
