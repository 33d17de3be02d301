package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Config;
import io.switchboard.common.test.Await;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sender against a real HTTP receiver: batching, Pusher's body and headers, giving up after the retry period. */
class WebhookVerticleTest {
  private Vertx vertx;
  private final List<JsonObject> received = new CopyOnWriteArrayList<>();
  private volatile int status = 200;
  private int port;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    port = Await.result(vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      received.add(new JsonObject().put("body", b.toString()).put("type", req.getHeader("content-type"))
          .put("key", req.getHeader("x-pusher-key")).put("t", System.currentTimeMillis()).put("signature", req.getHeader("x-pusher-signature")));
      req.response().setStatusCode(status).end();
    })).listen(0, "127.0.0.1")).actualPort();
  }

  @AfterEach
  void stop() {
    Await.result(vertx.close());
  }

  private void deploy(JsonObject webhooks) {
    JsonObject config = Config.of(new JsonObject()
        .put("apps", new JsonArray().add(new JsonObject().put("id", "app1").put("key", "k1").put("secret", "secret-one")
            .put("webhooks", new JsonArray().add(new JsonObject().put("url", "http://127.0.0.1:" + port + "/hook")))))
        .put("webhooks", webhooks.put("pollMs", 20)));
    Await.result(vertx.deployVerticle(new WebhookVerticle(), new DeploymentOptions().setConfig(config)));
  }

  private static JsonObject item(int i) {
    return new JsonObject().put("app", "app1").put("url", null).put("event", new JsonObject().put("name", "cache_miss")
        .put("channel", "cache-" + i)).put("at", System.currentTimeMillis() + i).put("attempts", 0);
  }

  private void queue(int n) {
    WebhookQueue q = MemoryWebhookQueue.shared(vertx);
    long now = System.currentTimeMillis();
    for (int i = 0; i < n; i++) {
      Await.result(q.enqueue(List.of(item(i).put("url", "http://127.0.0.1:" + port + "/hook")), WebhookQueue.Kind.PLAIN, null, now, now));
    }
  }

  @Test
  void eventsDueTogetherGoInOneSignedRequestUpToMaxBatch() {
    queue(7);
    deploy(new JsonObject().put("maxBatch", 5));
    Await.until("two requests", () -> received.size() >= 2);
    List<String> channels = new ArrayList<>();
    for (JsonObject r : received) {
      assertEquals("application/json", r.getString("type"));
      assertEquals("k1", r.getString("key"));
      assertEquals(WebhookVerticle.sign("secret-one", r.getString("body")), r.getString("signature"));
      JsonObject body = new JsonObject(r.getString("body"));
      assertTrue(body.getLong("time_ms") > 0);
      for (Object e : body.getJsonArray("events")) channels.add(((JsonObject) e).getString("channel"));
    }
    assertEquals(5, new JsonObject(received.get(0).getString("body")).getJsonArray("events").size(), "a full batch first");
    assertEquals(List.of("cache-0", "cache-1", "cache-2", "cache-3", "cache-4", "cache-5", "cache-6"), channels, "in queue order");
  }

  private io.switchboard.common.ServiceError failure(String address, Object body) {
    return io.switchboard.common.ServiceError.from(Await.failure(vertx.eventBus().request(address, body)), address);
  }

  @Test
  void malformedBusMessagesAreBadRequestsNamingTheField() {
    deploy(new JsonObject());
    String enqueue = io.switchboard.common.Addresses.WEBHOOKS_ENQUEUE;
    String occupancy = io.switchboard.common.Addresses.WEBHOOKS_OCCUPANCY;
    JsonArray miss = new JsonArray().add(new JsonObject().put("name", "cache_miss").put("channel", "cache-x"));
    assertBad(failure(enqueue, "text"), "JSON object");
    assertBad(failure(enqueue, new JsonObject().put("app", "nope").put("events", miss)), "'app'");
    assertBad(failure(enqueue, new JsonObject().put("app", "app1").put("events", "x")), "'events'");
    assertBad(failure(enqueue, new JsonObject().put("app", "app1").put("events", new JsonArray().add(new JsonObject().put("name", "member_added")
        .put("channel", "c")))), "client_event|cache_miss");
    JsonObject change = new JsonObject().put("node", "n").put("seq", 1).put("channel", "room").put("occupied", true);
    assertBad(failure(occupancy, change.copy().put("seq", -1)), "'seq'");
    assertBad(failure(occupancy, change.copy().put("occupied", "yes")), "'occupied'");
    assertBad(failure(occupancy, change.copy().putNull("node")), "'node'");
    assertBad(failure(occupancy, change.copy().put("channel", "bad name!")), "channel");
    assertBad(failure(io.switchboard.common.Addresses.WEBHOOKS_NODE_ALIVE, new JsonObject()), "'node'");
    // the consumers live on: a good message still works
    Await.result(vertx.eventBus().request(enqueue, new JsonObject().put("app", "app1").put("events", miss)));
    Await.until("the good event delivered", () -> received.stream().anyMatch(r -> r.getString("body").contains("cache-x")));
  }

  private static void assertBad(io.switchboard.common.ServiceError e, String mentions) {
    assertEquals(io.switchboard.common.ErrorCode.BAD_REQUEST, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains(mentions), e.getMessage());
  }

  @Test
  void eventsFailingForTheRetryPeriodAreDroppedAfterBackedOffAttempts() {
    status = 503;
    deploy(new JsonObject().put("retryForSeconds", 3).put("backoffMs", 100).put("maxBackoffMs", 400));
    long start = System.currentTimeMillis();
    queue(1);
    // attempts at about 0, 100, 300, 700, 1100, 1500 … ms (backoff doubling from 100, capped at 400) up to 3 s: then
    // dropped (a fresh JVM's first request may take a second or two: fewer attempts then)
    Await.until("the event to be dropped", () -> MemoryWebhookQueue.shared(vertx).size() == 0);
    int attempts = received.size();
    assertTrue(attempts >= 3 && attempts <= 12, "backed off, not hammered: " + received);
    assertTrue(System.currentTimeMillis() - start >= 3000, "kept trying for the retry period");
  }
}
