package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.common.Addresses;
import io.switchboard.common.Publication;
import io.switchboard.common.PublicationCodec;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.TestRedis;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Every verticle test again on Redis, plus two service instances (two Vertx, one Redis) sharing the sweeping. */
class RedisPresenceVerticleTest extends PresenceVerticleTest {

  @Override
  protected JsonObject engine() {
    return new JsonObject().put("engine", "redis").put("redis", new JsonObject().put("url", TestRedis.shared().url()));
  }

  @Test
  void twoInstancesAnnounceEachTimeoutExactlyOnce() {
    Vertx second = Vertx.vertx();
    List<Publication> secondEvents = new CopyOnWriteArrayList<>();
    try {
      PublicationCodec.register(second.eventBus());
      second.eventBus().<Publication>consumer(Addresses.gatewayNode("probe"), m -> secondEvents.add(m.body()));
      io.switchboard.common.Fanout.of(second).addInterest("probe", io.switchboard.common.Fanout.ALL_CHANNELS);
      Await.result(second.deployVerticle(new PresenceVerticle(), new DeploymentOptions().setConfig(config())));

      String a = unique("room:"), b = unique("room:");
      List<String> dead = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        String client = unique("dead");
        dead.add(client);
        Vertx via = i % 2 == 0 ? vertx : second;
        Await.result(via.eventBus().request(Addresses.PRESENCE_JOIN, joinBody(client, a, b)));
      }
      Await.until("24 timeouts", () -> timeouts(secondEvents, a, b).values().stream().mapToInt(n -> n).sum() >= 24);

      // a later timeout: both sweepers ran many more times, so any duplicate would be here by now
      String c = unique("room:");
      Await.result(second.eventBus().request(Addresses.PRESENCE_JOIN, joinBody(unique("dead"), c)));
      Await.until("the later timeout", () -> !events(c, "presence.timeout").isEmpty()
          || secondEvents.stream().anyMatch(p -> p.channel().equals(c) && p.event().equals("presence.timeout")));

      Map<String, Integer> counts = timeouts(secondEvents, a, b);
      assertEquals(24, counts.size(), "every member timed out: " + counts);
      counts.forEach((member, n) -> assertEquals(1, n, member + " announced " + n + " times"));
      assertEquals(List.of(), names(members(a)));
    } finally {
      Await.result(second.close());
    }
  }

  /** channel/client → number of presence.timeout events across both instances' buses. */
  private Map<String, Integer> timeouts(List<Publication> secondEvents, String... channels) {
    Map<String, Integer> counts = new HashMap<>();
    List<Publication> all = new ArrayList<>(events);
    all.addAll(secondEvents);
    for (Publication p : all) {
      if (!p.event().equals("presence.timeout") || !List.of(channels).contains(p.channel())) continue;
      counts.merge(p.channel() + "/" + ((JsonObject) p.data()).getString("client"), 1, Integer::sum);
    }
    return counts;
  }
}
