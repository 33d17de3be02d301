package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client's WebSocket pongs are liveness, never messages: answering the server's pings keeps the connection open
 * and draws no error frame (every library client answers every ping, so at scale a wrong answer per pong would be
 * one error frame per connection and ping interval).
 */
class PongTest {
  static TestServer s;

  @BeforeAll
  static void start() {
    JsonObject cfg = SharedServer.config();
    cfg.put("gateway", new JsonObject().put("pingIntervalMs", 100).put("pongTimeoutMs", 5000));
    s = TestServer.start(cfg);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  @Test
  void pongsAnsweringPingsAreNotMessages() throws Exception {
    String token = s.token("ponger", TestServer.allGrants());
    try (RawWs raw = new RawWs(s.wsPort)) {
      raw.sendText(new JsonObject().put("type", "request").put("id", "1").put("method", "connect")
          .put("params", new JsonObject().put("token", token)).encode());
      int pongs = 0;
      boolean askedForAppPong = false;
      RawWs.Frame f;
      while ((f = raw.read()) != null) {
        assertNotEquals(0x8, f.opcode(), () -> "closed while answering pings");
        if (f.opcode() == 0x9) {
          raw.sendFrame(0x8A, f.payload()); // FIN + pong, echoing the ping's payload
          if (++pongs == 3 && !askedForAppPong) {
            // the server reads in order: its answer to this comes after whatever the three pongs caused
            raw.sendText(new JsonObject().put("type", "ping").encode());
            askedForAppPong = true;
          }
          continue;
        }
        JsonObject frame = new JsonObject(f.text());
        assertNotEquals("error", frame.getString("type"), frame::encode);
        if ("pong".equals(frame.getString("type"))) {
          assertEquals(3, pongs);
          return;
        }
      }
      throw new AssertionError("socket ended before the application pong");
    }
  }
}
