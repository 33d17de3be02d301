package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.RedisConnector;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * How append.lua keeps a channel's keys alive without re-setting their expiry on every call: history and meta expire
 * together at the meta's expireAt, between historyTtl and historyTtl + slack (min(historyTtl/8, 60 s)) after the last
 * append, re-set only once it leaves that window.
 */
class RedisAppendExpiryTest {
  private static Vertx vertx;
  private static RedisMessageStore store;
  private static RedisConnector raw;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    store = RedisMessageStoreTest.open(vertx, TestRedis.shared().url(), StoreSettings.DEFAULT);
    raw = RedisConnector.create(vertx, new JsonObject().put("url", TestRedis.shared().url()));
  }

  @AfterAll
  static void stop() {
    Await.result(store.close());
    Await.result(vertx.close());
  }

  private static String redis(Command cmd, String... args) {
    Request r = Request.cmd(cmd);
    for (String a : args) r.arg(a);
    var reply = Await.result(raw.send(r));
    return reply == null ? null : reply.toString();
  }

  private static long expireAt(String channel) {
    String[] meta = redis(Command.GET, RedisKeys.meta(channel)).split(":");
    assertEquals(5, meta.length, "epoch:offset:trimAt:lastAck:expireAt");
    return Long.parseLong(meta[4]);
  }

  /** Asserts both keys expire at {@code at} (PTTL is relative: within the time this check takes). */
  private static void expiresAt(String channel, long at) {
    for (String key : new String[] {RedisKeys.meta(channel), RedisKeys.history(channel)}) {
      long left = Long.parseLong(redis(Command.PTTL, key));
      long expected = at - System.currentTimeMillis();
      assertTrue(left > 0 && Math.abs(left - expected) < 2_000, key + " expires in " + left + " ms, expected ~" + expected);
    }
  }

  private static void append(String channel, int ttlSeconds) {
    Await.result(store.append(MessageStoreContract.pub(channel, 1), MessageStoreContract.opts(1000, ttlSeconds, 0), null));
  }

  @Test
  @DisplayName("the first append sets expireAt = now + ttl + slack on meta and history; the next keeps it")
  void expiryKeptWithinItsWindow() {
    String ch = MessageStoreContract.channel();
    long before = System.currentTimeMillis();
    append(ch, 3600);
    long at = expireAt(ch);
    assertTrue(at >= before + 3_600_000 + 60_000 && at <= System.currentTimeMillis() + 3_600_000 + 60_000,
        "expireAt " + at + " is now + 1 h + 60 s slack");
    expiresAt(ch, at);
    append(ch, 3600);
    assertEquals(at, expireAt(ch), "still within [now + ttl, now + ttl + slack]: not re-set");
    expiresAt(ch, at); // KEEPTTL: the meta kept its expiry
  }

  @Test
  @DisplayName("a shorter history TTL moves expireAt into the new window at the next append")
  void shorterTtlResets() {
    String ch = MessageStoreContract.channel();
    append(ch, 3600);
    long before = System.currentTimeMillis();
    append(ch, 80); // slack 10 s
    long at = expireAt(ch);
    assertTrue(at >= before + 80_000 && at <= System.currentTimeMillis() + 90_000, "expireAt " + at);
    expiresAt(ch, at);
  }

  @Test
  @DisplayName("when the history key was lost, the stream the append makes anew gets an expiry")
  void newStreamExpires() {
    String ch = MessageStoreContract.channel();
    append(ch, 3600);
    redis(Command.DEL, RedisKeys.history(ch));
    append(ch, 3600);
    expiresAt(ch, expireAt(ch));
  }

  @Test
  @DisplayName("a meta written by a read (no expireAt) gets one at the next append")
  void metaFromRead() {
    String ch = MessageStoreContract.channel();
    Await.result(store.position(ch, MessageStoreContract.opts(1000, 3600, 0)));
    assertEquals(4, redis(Command.GET, RedisKeys.meta(ch)).split(":").length);
    append(ch, 3600);
    expiresAt(ch, expireAt(ch));
  }
}
