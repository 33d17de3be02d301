package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Defaults;
import io.switchboard.common.Ids;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 6 through the real edges: history larger than the gateway's outbound queue (1 MiB by default) is
 * answered in pages of at most store.maxHistoryBytes (256 KiB) with {@code more}/{@code next}; the client is never
 * cut for the server's own answer, and following {@code next} reads everything once.
 */
class HistoryBytesTest {
  private static final TestServer s = SharedServer.get();
  /** Just under gateway.maxFrameBytes (64 KiB) per publication: 20 of them are 1.2 MB, more than the queue. */
  private static final int DATA_CHARS = 60_000;
  private static final int COUNT = 20;

  @Test
  void historyLargerThanTheQueueIsPagedNotCut() {
    String ch = "task:bytes-" + Ids.hex(6);
    int maxBytes = Defaults.tree().getJsonObject("store").getInteger("maxHistoryBytes");
    try (WsClient c = s.connect(s.token("bytes-" + Ids.hex(4), TestServer.allGrants()))) {
      for (int i = 0; i < COUNT; i++) {
        c.result("publish", new JsonObject().put("channel", ch).put("event", "big").put("requiresAck", true)
            .put("data", new JsonObject().put("n", i).put("pad", "x".repeat(DATA_CHARS))));
      }
      for (boolean reverse : new boolean[] {false, true}) {
        List<Integer> seen = new ArrayList<>();
        JsonObject q = new JsonObject().put("channel", ch).put("limit", 100).put("reverse", reverse);
        int pages = 0;
        while (true) {
          JsonObject page = c.result("history", q.copy());
          JsonArray pubs = page.getJsonArray("publications");
          int bytes = 0;
          for (int i = 0; i < pubs.size(); i++) {
            bytes += pubs.getJsonObject(i).toBuffer().length(); // the gateway relays the store's publications as they are
            seen.add(pubs.getJsonObject(i).getJsonObject("data").getInteger("n"));
          }
          assertTrue(bytes <= maxBytes, "page of " + bytes + " bytes");
          pages++;
          if (!page.getBoolean("more", false)) break;
          q.put("since", page.getJsonObject("next"));
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < COUNT; i++) expected.add(reverse ? COUNT - 1 - i : i);
        assertEquals(expected, seen, reverse ? "reverse" : "forward");
        assertTrue(pages >= 5, pages + " pages");
        assertTrue(c.isOpen(), "never cut for its own answer");
      }
      JsonObject pending = c.result("pending", new JsonObject().put("channel", ch));
      assertTrue(pending.getBoolean("more"), "pending is bounded too");
      assertTrue(pending.getJsonArray("publications").size() < COUNT);
      assertTrue(c.isOpen());
    }
  }
}
