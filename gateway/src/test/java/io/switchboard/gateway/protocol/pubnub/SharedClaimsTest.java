package io.switchboard.gateway.protocol.pubnub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Capability;
import io.switchboard.common.Grants;
import io.switchboard.common.test.Await;
import io.switchboard.gateway.Claims;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Claims, grants and channel names shared between PubNub clients: only between identical ones, weakly, bounded. */
class SharedClaimsTest {

  /** Parsed anew each time, as the verifier does for every client. */
  static Grants grants(String channel, String... caps) {
    return Grants.parse(new JsonArray().add(new JsonObject().put("channel", channel).put("capabilities", new JsonArray(List.of(caps)))), "grants");
  }

  static Claims claims(String subject, String jti, long exp, Grants g) {
    return new Claims(new String(subject), new String(jti), 1000, exp, g, "user", new JsonObject());
  }

  @Test
  void twoClientsWithTheSameTokenShareOneClaims() {
    Claims first = SharedClaims.of(claims("shared-1", "jti-1", 5000, grants("task:*", "subscribe", "publish")));
    Claims second = SharedClaims.of(claims("shared-1", "jti-1", 5000, grants("task:*", "subscribe", "publish")));
    assertSame(first, second);
    assertTrue(second.grants().allows("task:x", Capability.PUBLISH));
  }

  @Test
  void agentsWithTheSameGrantsShareTheGrantsNotTheirClaims() {
    Claims a = SharedClaims.of(claims("agent-a", "jti-a", 5000, grants("jobs:*", "subscribe")));
    Claims b = SharedClaims.of(claims("agent-b", "jti-b", 5000, grants("jobs:*", "subscribe")));
    assertNotSame(a, b);
    assertEquals("agent-a", a.subject());
    assertEquals("agent-b", b.subject());
    assertSame(a.grants(), b.grants());
  }

  /** setToken: the new token's claims (new grants, new expiry), never the shared old ones; the old stay for others. */
  @Test
  void aRefreshedTokenGetsItsOwnGrants() {
    Claims old = SharedClaims.of(claims("refresh-1", "jti-old", 5000, grants("room:a", "subscribe")));
    Claims other = SharedClaims.of(claims("refresh-1", "jti-old", 5000, grants("room:a", "subscribe")));
    Claims fresh = SharedClaims.of(claims("refresh-1", "jti-new", 9000, grants("room:b", "subscribe")));
    assertSame(old, other);
    assertNotSame(old, fresh);
    assertTrue(fresh.grants().allows("room:b", Capability.SUBSCRIBE));
    assertFalse(fresh.grants().allows("room:a", Capability.SUBSCRIBE));
    assertEquals(9000, fresh.exp());
    assertTrue(other.grants().allows("room:a", Capability.SUBSCRIBE));
    // same token id and grants but another expiry or capability: not the same claims
    assertNotSame(old, SharedClaims.of(claims("refresh-1", "jti-old", 6000, grants("room:a", "subscribe"))));
    Claims wider = SharedClaims.of(claims("refresh-1", "jti-old", 5000, grants("room:a", "subscribe", "publish")));
    assertNotSame(old, wider);
    assertTrue(wider.grants().allows("room:a", Capability.PUBLISH));
    assertFalse(old.grants().allows("room:a", Capability.PUBLISH));
  }

  @Test
  void differentInfoIsNotShared() {
    Claims a = SharedClaims.of(new Claims("info-1", "jti-i", 1, 5000, grants("x", "subscribe"), "user", new JsonObject().put("name", "A")));
    Claims b = SharedClaims.of(new Claims("info-1", "jti-i", 1, 5000, grants("x", "subscribe"), "user", new JsonObject().put("name", "B")));
    assertNotSame(a, b);
    assertEquals("B", b.info().getString("name"));
  }

  /** Claims are found by token id; one that says something else under the same id (never minted so) is its own. */
  @Test
  void claimsAreFoundByTokenIdButSharedOnlyWhenIdentical() {
    Claims a = SharedClaims.of(claims("tid-1", "jti-t", 5000, grants("t:*", "subscribe")));
    Claims otherSubject = SharedClaims.of(claims("tid-2", "jti-t", 5000, grants("t:*", "subscribe")));
    assertNotSame(a, otherSubject);
    assertEquals("tid-2", otherSubject.subject());
    assertSame(a.grants(), otherSubject.grants());
    assertSame(a, SharedClaims.of(claims("tid-1", "jti-t", 5000, grants("t:*", "subscribe"))), "the first stays shared");
  }

  @Test
  void claimsWithoutATokenIdShareOnlyTheirGrants() {
    Claims a = SharedClaims.of(new Claims("noid-1", null, 1, 5000, grants("n:*", "subscribe"), "user", Claims.NO_INFO));
    Claims b = SharedClaims.of(new Claims("noid-1", null, 1, 5000, grants("n:*", "subscribe"), "user", Claims.NO_INFO));
    assertNotSame(a, b);
    assertSame(a.grants(), b.grants());
  }

  /** A token without info: one shared empty object that nobody can write into. */
  @Test
  void noInfoIsEmptyAndReadOnly() {
    assertTrue(Claims.NO_INFO.isEmpty());
    assertEquals("{}", Claims.NO_INFO.encode());
    assertEquals(new JsonObject(), Claims.NO_INFO);
    org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, () -> Claims.NO_INFO.put("x", 1));
    assertEquals(new JsonObject().put("info", new JsonObject()), new JsonObject().put("info", Claims.NO_INFO).copy());
  }

  @Test
  void channelNamesAreOneString() {
    String a = SharedClaims.name(new String("task:names-1"));
    String b = SharedClaims.name(new String("task:names-1"));
    assertSame(a, b);
    assertNotSame(a, SharedClaims.name(new String("task:names-2")));
  }

  /** At the bound the table shares what it holds and keeps its own copy of anything new; past it, the same. */
  @Test
  void theTableIsBounded() {
    SharedClaims.Table<Object> t = new SharedClaims.Table<>(2);
    List<Object> held = new ArrayList<>();
    for (String k : List.of("k1", "k2")) {
      Object v = new Object();
      held.add(v);
      assertSame(v, t.intern(k, v));
    }
    assertEquals(2, t.size());
    assertSame(held.get(0), t.intern("k1", new Object()), "still shared at the bound");
    Object third = new Object();
    assertSame(third, t.intern("k3", third));
    assertNotSame(third, t.intern("k3", new Object()), "past the bound: not kept");
    assertEquals(2, t.size());
  }

  /** Values are held weakly: once no client holds them the entries go (and make room). */
  @Test
  void entriesGoWithTheirLastHolder() {
    SharedClaims.Table<Object> t = new SharedClaims.Table<>(2);
    t.intern("gone-1", new Object());
    t.intern("gone-2", new Object());
    Await.until("the collected values' entries are dropped", () -> {
      System.gc();
      return t.size() == 0;
    });
    Object v = new Object();
    assertSame(v, t.intern("gone-3", v));
    assertSame(v, t.intern("gone-3", new Object()));
  }
}
