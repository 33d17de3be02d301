package io.switchboard.gateway.core;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A session's subscriptions by scoped channel name. Most sessions (an agent on its command channel, a browser tab on
 * one feed, a held PubNub client) subscribe to one channel: that one is a field, and a map exists only from the second
 * on (a {@code HashMap} with its table and node is ~112 B per session that one field avoids). Only the session's event
 * loop touches it. Keys are always the subscription's own {@link Subscription#channel}.
 */
final class SessionSubscriptions {
  /** The only subscription while there is at most one ({@link #many} null), else null. */
  private Subscription one;
  /** Every subscription once there are two or more, else null. */
  private HashMap<String, Subscription> many;

  Subscription get(String channel) {
    if (many != null) return many.get(channel);
    Subscription s = one;
    return s != null && s.channel.equals(channel) ? s : null;
  }

  boolean containsKey(String channel) {
    return get(channel) != null;
  }

  /** Adds {@code s} under its channel, replacing a subscription of the same channel. */
  void put(String channel, Subscription s) {
    assert channel.equals(s.channel) : channel + " is not " + s.channel;
    if (many != null) {
      many.put(s.channel, s);
    } else if (one == null || one.channel.equals(s.channel)) {
      one = s;
    } else {
      many = new HashMap<>(4);
      many.put(one.channel, one);
      many.put(s.channel, s);
      one = null;
    }
  }

  /** Removes the channel's subscription if it is {@code s}. */
  void remove(String channel, Subscription s) {
    if (many == null) {
      if (one == s) one = null;
      return;
    }
    many.remove(channel, s);
    if (many.size() == 1) {
      one = many.values().iterator().next();
      many = null;
    }
  }

  int size() {
    return many != null ? many.size() : one != null ? 1 : 0;
  }

  /** A view while there are several, else an immutable list; not to be changed while iterated. */
  Collection<Subscription> values() {
    if (many != null) return many.values();
    return one != null ? List.of(one) : List.of();
  }

  void forEach(BiConsumer<String, Subscription> f) {
    if (many != null) {
      many.forEach(f);
    } else if (one != null) {
      f.accept(one.channel, one);
    }
  }

  void clear() {
    one = null;
    many = null;
  }
}
