package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The gateway sends the publishes that arrive together (one read of many frames: one event-loop turn) to the store
 * as one {@code store.append.batch} request: every publish still gets its own answer, one channel's publishes keep
 * the order they were sent in, and one that fails in the store (rate limited) fails alone.
 */
class AppendBatchingTest {
  private static final String COUNT = "switchboard_store_request_duration_seconds_count";

  /** The sum of the samples of {@code name} whose labels contain {@code label}. */
  private static double metric(TestServer s, String name, String label) {
    String body = s.on.await(() -> s.http.request(new RequestOptions().setHost("127.0.0.1").setPort(s.opsPort).setURI("/metrics"))
        .compose(r -> r.send()).compose(r -> r.body())).toString();
    double sum = 0;
    for (String line : body.split("\n")) {
      if (line.startsWith(name + "{") && line.contains(label)) sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  private static String publish(String id, String channel, Object data, String idempotencyKey) {
    JsonObject params = new JsonObject().put("channel", channel).put("event", "e").put("data", data);
    if (idempotencyKey != null) params.put("idempotencyKey", idempotencyKey);
    return new JsonObject().put("type", "request").put("id", id).put("method", "publish").put("params", params).encode();
  }

  @Test
  void publishesArrivingTogetherGoAsOneRequestEachAnsweredAlone() throws Exception {
    TestServer s = SharedServer.get();
    String ch = "task:batch-" + System.nanoTime();
    String slow = "slow:batch-" + System.nanoTime();
    double singles0 = metric(s, COUNT, "op=\"append\"");
    double batches0 = metric(s, COUNT, "op=\"append.batch\"");
    try (RawWs raw = new RawWs(s.wsPort)) {
      raw.sendText(new JsonObject().put("type", "request").put("id", "c").put("method", "connect")
          .put("params", new JsonObject().put("token", s.token("batcher", TestServer.allGrants()))).encode());
      List<String> frames = new ArrayList<>();
      int n = 30;
      for (int i = 0; i < n; i++) {
        frames.add(publish("p" + i, ch, i, i == 7 || i == 8 ? "same-key" : null));
        if (i < 3) frames.add(publish("s" + i, slow, i, null)); // slow allows 2 per second: the third fails alone
      }
      Map<String, JsonObject> answers = new HashMap<>();
      boolean connected = false;
      while (answers.size() < n + 3) {
        RawWs.Frame f = raw.read();
        assertNotNull(f, "socket ended with " + answers.size() + " answers");
        if (f.opcode() != 0x1) continue;
        JsonObject frame = new JsonObject(f.text());
        if (!"response".equals(frame.getString("type"))) continue;
        if ("c".equals(frame.getString("id"))) {
          assertTrue(frame.containsKey("result"), frame.encode());
          connected = true;
          raw.sendTextsAtOnce(frames); // all publishes in one write: the gateway reads them in one turn
          continue;
        }
        answers.put(frame.getString("id"), frame);
      }
      assertTrue(connected);
      long expected = 1;
      String firstId = null;
      for (int i = 0; i < n; i++) {
        JsonObject a = answers.get("p" + i);
        JsonObject result = a.getJsonObject("result");
        assertNotNull(result, a.encode());
        if (i == 8) {
          assertEquals(firstId, result.getString("id"), "the repeat of an idempotency key in the same batch answers the first");
          assertEquals(expected - 1, result.getLong("offset"));
          continue;
        }
        if (i == 7) firstId = result.getString("id");
        assertEquals(expected++, result.getLong("offset"), "publish " + i + " stored in the order sent");
      }
      assertEquals(1, answers.get("s0").getJsonObject("result").getLong("offset"));
      assertEquals(2, answers.get("s1").getJsonObject("result").getLong("offset"));
      JsonObject limited = answers.get("s2");
      assertEquals("rate_limited", limited.getJsonObject("error").getString("code"), limited.encode());
    }
    double singles = metric(s, COUNT, "op=\"append\"") - singles0;
    double batches = metric(s, COUNT, "op=\"append.batch\"") - batches0;
    assertTrue(batches >= 1, "at least one store.append.batch request (singles " + singles + ", batches " + batches + ")");
    assertTrue(singles + batches < 33, "fewer store requests than publishes: singles " + singles + ", batches " + batches);
  }
}
