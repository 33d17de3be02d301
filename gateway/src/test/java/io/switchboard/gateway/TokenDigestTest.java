package io.switchboard.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TokenDigestTest {
  @Test
  @DisplayName("the first 128 bits of the token's SHA-256 (FIPS 180-2 test vector \"abc\")")
  void firstHalfOfSha256() {
    TokenDigest d = TokenDigest.of("abc");
    assertEquals(0xba7816bf8f01cfeaL, d.high());
    assertEquals(0x414140de5dae2223L, d.low());
    assertTrue(d.is(0xba7816bf8f01cfeaL, 0x414140de5dae2223L));
  }

  @Test
  @DisplayName("the same token gives the same digest on every thread; a token one character apart another, in both halves")
  void sameAndDifferent() throws InterruptedException {
    String token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZ2VudC0xIn0.sig";
    TokenDigest here = TokenDigest.of(token);
    TokenDigest[] there = new TokenDigest[1];
    Thread t = new Thread(() -> there[0] = TokenDigest.of(token));
    t.start();
    t.join();
    assertEquals(here, there[0]);
    assertEquals(here, TokenDigest.of(token), "a digest object reused on one thread starts afresh each time");
    TokenDigest other = TokenDigest.of(token.substring(0, token.length() - 1) + "h");
    assertNotEquals(here, other);
    assertFalse(other.is(here.high(), here.low()));
    assertFalse(here.is(here.high(), other.low()), "the low half counts");
    assertFalse(here.is(other.high(), here.low()), "the high half counts");
  }
}
