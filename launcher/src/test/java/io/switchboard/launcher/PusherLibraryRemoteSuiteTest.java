package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The `pusher` server library's own remote test suite (tests/remote in its npm package: channels, occupancy, users,
 * trigger, batch, through an HTTP proxy) run with mocha against Switchboard, as its authors run it against Pusher:
 * {@code PUSHER_URL=http://key:secret@host:port/apps/ID}.
 */
class PusherLibraryRemoteSuiteTest {
  @Test
  void thePusherLibrarysRemoteTestsPass() {
    try (TestServer s = TestServer.start(new JsonObject().put("apps", new JsonArray()
        .add(new JsonObject().put("id", "42").put("key", "remote-key").put("secret", "remote-secret-1"))))) {
      NodeScript mocha = NodeScript.start("node_modules/mocha/bin/mocha",
          Map.of("PUSHER_URL", "http://remote-key:remote-secret-1@127.0.0.1:" + s.wsPort + "/apps/42"),
          "--timeout", "10000", "node_modules/pusher/tests/remote/pusher/");
      int exit = mocha.waitFor(Duration.ofSeconds(120));
      String out = mocha.text();
      assertEquals(0, exit, out);
      Matcher passing = Pattern.compile("(\\d+) passing").matcher(out);
      assertTrue(passing.find(), out);
      assertTrue(Integer.parseInt(passing.group(1)) >= 6, out);
      assertTrue(!out.contains("failing") && !out.contains("pending"), out);
    }
  }
}
