package io.switchboard.gateway.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A session's subscriptions: one held in a field, a map from the second on, back to the field at one. */
class SessionSubscriptionsTest {

  private static Subscription sub(String channel) {
    return new Subscription(channel, null, false);
  }

  private static Set<String> channels(SessionSubscriptions m) {
    Set<String> out = new HashSet<>();
    m.forEach((k, s) -> {
      assertEquals(k, s.channel);
      out.add(k);
    });
    List<String> fromValues = new ArrayList<>();
    for (Subscription s : m.values()) fromValues.add(s.channel);
    assertEquals(out, new HashSet<>(fromValues));
    assertEquals(out.size(), m.size());
    return out;
  }

  @Test
  void oneThenManyThenOneAgain() {
    SessionSubscriptions m = new SessionSubscriptions();
    assertEquals(Set.of(), channels(m));
    Subscription a = sub("a");
    m.put("a", a);
    assertSame(a, m.get("a"));
    assertNull(m.get("b"));
    assertTrue(m.containsKey("a"));
    assertEquals(Set.of("a"), channels(m));

    Subscription b = sub("b");
    Subscription c = sub("c");
    m.put("b", b);
    m.put("c", c);
    assertEquals(Set.of("a", "b", "c"), channels(m));
    assertSame(b, m.get("b"));

    m.remove("a", a);
    m.remove("c", c);
    assertEquals(Set.of("b"), channels(m));
    assertSame(b, m.get("b"));
    assertFalse(m.containsKey("a"));
    m.put("d", sub("d"));
    assertEquals(Set.of("b", "d"), channels(m));
    m.clear();
    assertEquals(Set.of(), channels(m));
    assertNull(m.get("b"));
  }

  @Test
  void aResubscribeReplacesAndOnlyTheSameSubscriptionIsRemoved() {
    SessionSubscriptions m = new SessionSubscriptions();
    Subscription first = sub("x");
    Subscription again = sub("x");
    m.put("x", first);
    m.put("x", again);
    assertEquals(1, m.size());
    assertSame(again, m.get("x"));
    m.remove("x", first);
    assertSame(again, m.get("x"), "a stale subscription's removal leaves the new one");
    m.put("y", sub("y"));
    m.remove("x", first);
    assertSame(again, m.get("x"));
    assertEquals(2, m.size());
    m.remove("x", again);
    assertNull(m.get("x"));
    assertEquals(Set.of("y"), channels(m));
  }
}
