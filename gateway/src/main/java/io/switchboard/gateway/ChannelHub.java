package io.switchboard.gateway;

import io.switchboard.common.Publication;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * The channel → local subscribers index of one gateway event loop, and the last step of the hot path: a publication
 * from the bus is encoded once and the same bytes are queued on every subscriber's connection.
 *
 * <p>Confined to its event loop: no locks. Subscribers are kept in an array list with swap-remove so fan-out
 * iterates a dense array and unsubscribe is O(1).
 */
final class ChannelHub {
  private final Map<String, ArrayList<Subscription>> channels = new HashMap<>();

  void add(Subscription s) {
    ArrayList<Subscription> subs = channels.computeIfAbsent(s.channel, c -> new ArrayList<>(2));
    s.hubIndex = subs.size();
    subs.add(s);
  }

  void remove(Subscription s) {
    ArrayList<Subscription> subs = channels.get(s.channel);
    int i = s.hubIndex;
    if (subs == null || i < 0 || i >= subs.size() || subs.get(i) != s) return;
    Subscription last = subs.remove(subs.size() - 1);
    if (last != s) {
      subs.set(i, last);
      last.hubIndex = i;
    }
    s.hubIndex = -1;
    if (subs.isEmpty()) channels.remove(s.channel);
  }

  /**
   * Fan-out: encode once, queue on every live subscriber; subscribers still subscribing hold it.
   *
   * @return the number of sockets written
   */
  int deliver(Publication p) {
    ArrayList<Subscription> subs = channels.get(p.channel());
    if (subs == null) return 0;
    int written = 0;
    NativeFrames.Encoded frame = null;
    // index loop: a write can fail a slow consumer, whose close removes it from this list (swap-remove), so walk
    // backwards to never skip or repeat a subscriber
    for (int i = subs.size() - 1; i >= 0; i--) {
      if (i >= subs.size()) continue;
      Subscription s = subs.get(i);
      if (!s.live) {
        s.hold(p);
        continue;
      }
      if (!s.accept(p)) continue;
      if (frame == null) frame = NativeFrames.event(p);
      s.connection.sendEvent(frame);
      written++;
    }
    return written;
  }

  int channelCount() {
    return channels.size();
  }
}
