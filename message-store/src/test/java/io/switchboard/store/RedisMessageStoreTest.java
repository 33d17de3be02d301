package io.switchboard.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Priority;
import io.switchboard.common.Publication;
import io.switchboard.common.RedisConnector;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The storage contract on the Redis engine, against the shared test Redis (channels are unique per test). */
class RedisMessageStoreTest extends MessageStoreContract {
  private RedisConnector raw;

  static RedisMessageStore open(Vertx vertx, String url, StoreSettings settings) {
    return new RedisMessageStore(RedisConnector.create(vertx, new JsonObject().put("url", url)), settings);
  }

  @Override
  MessageStore newStore(Vertx vertx, StoreSettings settings) {
    return open(vertx, TestRedis.shared().url(), settings);
  }

  @Override
  MessageStore sameDataStore() {
    return track(newStore(vertx, SETTINGS)); // a second client: its own connection, racing through Redis
  }

  @Override
  MessageStore sameData(StoreSettings settings) {
    return track(newStore(vertx, settings));
  }

  @BeforeEach
  void rawClient() {
    raw = RedisConnector.create(vertx, new JsonObject().put("url", TestRedis.shared().url()));
  }

  @AfterEach
  void closeRaw() {
    raw.close();
  }

  private Response redis(Command cmd, String... args) {
    Request r = Request.cmd(cmd);
    for (String a : args) r.arg(a);
    return Await.result(raw.send(r));
  }

  @Test
  @DisplayName("when the history key is lost (but the channel's meta survives) the next operation starts a new epoch")
  void lostHistoryKey() {
    String ch = channel();
    Publication p = append(ch, KEEP);
    append(ch, KEEP);
    redis(Command.DEL, RedisKeys.history(ch));
    Recovery r = Await.result(store.recover(ch, 1, p.epoch(), KEEP));
    assertFalse(r.recovered());
    assertNotEquals(p.epoch(), r.epoch());
    assertEquals(0, r.offset());
    Publication next = append(ch, KEEP);
    assertEquals(1, next.offset());
    assertEquals(r.epoch(), next.epoch());

    String ch2 = channel();
    Publication q = append(ch2, KEEP);
    redis(Command.DEL, RedisKeys.history(ch2));
    Publication afterLoss = append(ch2, KEEP);
    assertEquals(1, afterLoss.offset(), "append itself notices the loss");
    assertNotEquals(q.epoch(), afterLoss.epoch());
  }

  @Test
  @DisplayName("heads: a lost history key or a broken meta key gives that channel none, the others theirs, nothing written; one call per channel (Redis Cluster) answers the same")
  void headsLostHistoryAndPerChannelCalls() {
    String lost = channel();
    String kept = channel();
    append(lost, KEEP);
    Publication k = append(kept, KEEP);
    redis(Command.DEL, RedisKeys.history(lost));
    String metaBefore = redis(Command.GET, RedisKeys.meta(lost)).toString();
    String broken = channel();
    redis(Command.HSET, RedisKeys.meta(broken), "f", "v"); // GET fails WRONGTYPE for this channel alone
    assertEquals(java.util.Arrays.asList(null, null, new Position(1, k.epoch())),
        Await.result(store.heads(List.of(lost, broken, kept))));
    assertEquals(metaBefore, redis(Command.GET, RedisKeys.meta(lost)).toString(), "heads wrote nothing");

    RedisMessageStore perChannel = (RedisMessageStore) track(new RedisMessageStore(
        RedisConnector.create(vertx, new JsonObject().put("url", TestRedis.shared().url())), SETTINGS,
        RedisAppends.Tuning.DEFAULT.withCallPerChannel(true)));
    String none = channel();
    assertEquals(java.util.Arrays.asList(new Position(1, k.epoch()), null, null),
        Await.result(perChannel.heads(List.of(kept, lost, none))));
  }

  @Test
  @DisplayName("every key a channel uses carries a TTL, all under the channel's hash tag")
  void everyKeyExpires() {
    String ch = channel();
    Await.result(store.append(pub(ch, Priority.HIGH, List.of(), "agent", 0, true), opts(100, 3600, 10), "k-1"));
    Publication p = Await.result(store.append(pub(ch, Priority.HIGH, List.of(), "agent", 0, true), opts(100, 3600, 10), null))
        .publication();
    Await.result(store.ack(ch, List.of(p.id()), "u1"));
    Await.result(store.position(channel(), KEEP));
    Response keys = redis(Command.KEYS, "sb:{" + ch + "}:*");
    assertEquals(6, keys.size(), "meta, history, ackable, rate, idempotency, acks: " + keys);
    for (Response key : keys) {
      long ttl = redis(Command.PTTL, key.toString()).toLong();
      assertTrue(ttl > 0, key + " has no TTL (" + ttl + ")");
    }
  }
}
