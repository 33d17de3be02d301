package io.switchboard.gateway.core;

import io.switchboard.common.Publication;
import java.util.ArrayList;
import java.util.List;

/**
 * One connection's subscription to one channel, owned by the connection's event loop.
 *
 * <p>Invariant: a subscription delivers stored publications in strictly increasing offset order, each once. Until
 * the subscribe answer (and any recovered publications) has been written the subscription is not {@link #live}:
 * fan-out publications are held in {@link #held} and released after, skipping those at or below the position the
 * client was given.
 */
final class Subscription {
  final String channel;
  final Session connection;
  final boolean presence;
  /** Position in the hub's subscriber list, for O(1) removal. */
  int hubIndex = -1;
  boolean live;
  /** Highest stored offset delivered (or given as the position); 0 = none yet. */
  long lastOffset;
  String epoch;
  /**
   * A lazy personal subscription's anchor (epoch ms when it became live without reading the store; 0 = the position
   * came from the store). Until it has delivered anything, stored publications older than the anchor (less
   * {@link Subscriptions#CLOCK_SKEW_MS}) are from before the client connected and are not delivered.
   */
  long since;
  private List<Publication> held;

  Subscription(String channel, Session connection, boolean presence) {
    this.channel = channel;
    this.connection = connection;
    this.presence = presence;
  }

  void hold(Publication p) {
    if (held == null) held = new ArrayList<>(4);
    held.add(p);
  }

  /** Publications received while not live, in arrival order; clears them. */
  List<Publication> takeHeld() {
    List<Publication> h = held;
    held = null;
    return h == null ? List.of() : h;
  }

  /**
   * Whether {@code p} is next for this subscription: ephemeral publications always are; stored ones only when newer
   * than what was delivered (duplicates from recovery overlap or a re-sent bus message are dropped here).
   */
  boolean accept(Publication p) {
    if (!p.stored()) return true;
    if (since > 0 && epoch == null && lastOffset == 0 && p.timestamp() < since - Subscriptions.CLOCK_SKEW_MS) return false;
    if (epoch != null && p.epoch() != null && !epoch.equals(p.epoch())) {
      // the channel's history was lost and restarted: the new epoch's offsets start again
      epoch = p.epoch();
      lastOffset = p.offset();
      return true;
    }
    if (p.offset() <= lastOffset) return false;
    lastOffset = p.offset();
    if (epoch == null) epoch = p.epoch();
    return true;
  }
}
