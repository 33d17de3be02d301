package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A reconnect storm in small: hundreds of clients resubscribe with {@code recover} to a few channels at the same
 * moment while publications continue. Every client gets exactly what it missed, in order, once, then the live ones;
 * the store is read about once per channel and round trip, not once per client (the gateway coalesces the reads).
 */
class ReconnectStormTest {
  private static final int CLIENTS = 300;
  private static final int CHANNELS = 3;
  private static final int BEFORE = 12;
  private static final int DURING = 15;

  private final TestServer s = SharedServer.get();
  private WebSocketClient many;

  @AfterEach
  void closeClient() {
    if (many != null) s.on.await(() -> many.close());
  }

  @Test
  void simultaneousRecoveriesGetExactlyWhatTheyMissedFromCoalescedReads() throws Exception {
    String token = s.token("storm-user", TestServer.allGrants());
    List<String> channels = new ArrayList<>();
    for (int k = 0; k < CHANNELS; k++) channels.add("task:storm-recover-" + k);
    // data by offset per channel, as the publisher was told
    List<Map<Long, String>> published = new ArrayList<>();
    String[] epochs = new String[CHANNELS];
    long[] firstOffset = new long[CHANNELS];
    List<WsClient> clients = new ArrayList<>();
    try (WsClient pub = s.connect(token)) {
      for (int k = 0; k < CHANNELS; k++) {
        published.add(new HashMap<>());
        for (int i = 0; i < BEFORE; i++) {
          JsonObject r = publish(pub, channels.get(k), "before-" + i, published.get(k));
          if (i == 0) {
            epochs[k] = r.getString("epoch");
            firstOffset[k] = r.getLong("offset");
          }
        }
      }
      clients.addAll(connectMany(token, CLIENTS));

      // where each client left off: spread over the first publications, plus a few positions the channel cannot
      // recover (another epoch, an offset it never reached) in the same storm
      long[] from = new long[CLIENTS];
      String[] epochOf = new String[CLIENTS];
      String[] ids = new String[CLIENTS];
      List<String> frames = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        int k = i % CHANNELS;
        from[i] = firstOffset[k] - 1 + (i / CHANNELS) % BEFORE;
        epochOf[i] = epochs[k];
        if (i % 50 == 3) epochOf[i] = "not-the-epoch";
        if (i % 50 == 4) from[i] = firstOffset[k] + 1000;
        ids[i] = clients.get(i).nextId();
        frames.add(new JsonObject().put("type", "subscribe").put("id", ids[i]).put("channels", new JsonArray()
            .add(new JsonObject().put("channel", channels.get(k))
                .put("recover", new JsonObject().put("offset", from[i]).put("epoch", epochOf[i])))).encode());
      }
      double readsBefore = s.metric("switchboard_subscribe_store_reads_total");
      double servedBefore = s.metric("switchboard_subscribe_store_read_subscriptions_total");

      // publications continue while the storm is answered
      CompletableFuture<Void> during = CompletableFuture.runAsync(() -> {
        for (int i = 0; i < DURING; i++) {
          for (int k = 0; k < CHANNELS; k++) publish(pub, channels.get(k), "during-" + i, published.get(k));
        }
      });
      // every resubscribe leaves in one go
      s.on.await(() -> {
        List<Future<Void>> writes = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) writes.add(clients.get(i).socket.writeTextMessage(frames.get(i)));
        return Future.all(writes);
      });
      during.get();

      int recovered = 0;
      for (int i = 0; i < CLIENTS; i++) {
        int k = i % CHANNELS;
        WsClient c = clients.get(i);
        JsonObject ans = c.response(ids[i]).getJsonObject("result").getJsonArray("channels").getJsonObject(0);
        assertTrue(ans.getBoolean("ok"), "client " + i + ": " + ans.encode());
        boolean unrecoverable = i % 50 == 3 || i % 50 == 4;
        assertEquals(!unrecoverable, ans.getBoolean("recovered"), "client " + i + ": " + ans.encode());
        assertEquals(epochs[k], ans.getString("epoch"));
        if (!unrecoverable) recovered++;
        // recovered: everything after its own position; otherwise everything after the position it was given
        long next = (unrecoverable ? ans.getLong("offset") : from[i]) + 1;
        long head = firstOffset[k] + BEFORE + DURING - 1;
        String channel = channels.get(k);
        for (long o = next; o <= head; o++) {
          JsonObject ev = c.event(channel, "n");
          assertEquals(o, ev.getLong("offset"), "client " + i + " on " + channel + ": offsets in order, no gap, no duplicate");
          assertEquals(published.get(k).get(o), ev.getString("data"), "client " + i + " offset " + o);
        }
        assertEquals(Math.max(0, head - next + 1),
            c.seen(f -> "event".equals(f.getString("type")) && channel.equals(f.getString("channel")) && "n".equals(f.getString("event"))).size(),
            "client " + i + ": nothing twice");
      }
      assertEquals(CLIENTS - 2 * (CLIENTS / 50), recovered);

      double reads = s.metric("switchboard_subscribe_store_reads_total") - readsBefore;
      double served = s.metric("switchboard_subscribe_store_read_subscriptions_total") - servedBefore;
      assertTrue(served >= CLIENTS, "every resubscribe was answered by a store read: " + served);
      // one read per channel, event loop and round trip: far fewer than one per client
      assertTrue(reads * 5 <= served, "store reads " + reads + " for " + served + " subscriptions: not coalesced");
      System.out.println("ReconnectStormTest: " + (long) reads + " store reads for " + (long) served + " resubscribes");
    } finally {
      for (WsClient c : clients) c.close();
    }
  }

  @Test
  void positionsTrimmedOutOfHistoryAnswerFalseWhileHigherOnesInTheSameStormRecover() {
    String token = s.token("storm-user3", TestServer.allGrants());
    String channel = "hist:storm-recover-trim"; // history keeps the last 50
    Map<Long, String> published = new HashMap<>();
    List<WsClient> clients = new ArrayList<>();
    try (WsClient pub = s.connect(token)) {
      JsonObject first = null;
      for (int i = 0; i < 70; i++) {
        JsonObject r = publish(pub, channel, "p" + i, published);
        if (first == null) first = r;
      }
      long base = first.getLong("offset");
      long head = base + 69;
      String epoch = first.getString("epoch");
      // trimmed (the oldest kept is head - 49) and recoverable positions, interleaved, all at once
      long[] from = {base, head - 40, base + 5, head - 10, head - 50, head - 49, head};
      clients.addAll(connectMany(token, from.length * 10));
      String[] ids = new String[clients.size()];
      s.on.await(() -> {
        List<Future<Void>> writes = new ArrayList<>();
        for (int i = 0; i < clients.size(); i++) {
          ids[i] = clients.get(i).nextId();
          writes.add(clients.get(i).socket.writeTextMessage(new JsonObject().put("type", "subscribe").put("id", ids[i])
              .put("channels", new JsonArray().add(new JsonObject().put("channel", channel)
                  .put("recover", new JsonObject().put("offset", from[i % from.length]).put("epoch", epoch)))).encode()));
        }
        return Future.all(writes);
      });
      for (int i = 0; i < clients.size(); i++) {
        long f = from[i % from.length];
        JsonObject ch = clients.get(i).response(ids[i]).getJsonObject("result").getJsonArray("channels").getJsonObject(0);
        boolean recoverable = f >= head - 50; // the entry after it (head - 49 at the oldest) is still held
        assertEquals(recoverable, ch.getBoolean("recovered"), "from " + f + ": " + ch.encode());
        assertEquals(head, ch.getLong("offset"));
        if (!recoverable) continue;
        for (long o = f + 1; o <= head; o++) {
          JsonObject ev = clients.get(i).event(channel, "n");
          assertEquals(o, ev.getLong("offset"), "from " + f);
          assertEquals(published.get(o), ev.getString("data"));
        }
      }
      // live after the storm: the next one, once, for everyone
      JsonObject last = publish(pub, channel, "live", published);
      for (WsClient c : clients) assertEquals(last.getLong("offset"), c.event(channel, "n").getLong("offset"));
    } finally {
      for (WsClient c : clients) c.close();
    }
  }

  @Test
  void aPositionPastTheLargestOffsetIsRefusedAloneWhileTheOthersOfTheStormRecover() {
    String token = s.token("storm-user4", TestServer.allGrants());
    String channel = "task:storm-recover-limit";
    Map<Long, String> published = new HashMap<>();
    List<WsClient> clients = new ArrayList<>();
    try (WsClient pub = s.connect(token)) {
      JsonObject first = publish(pub, channel, "a", published);
      String epoch = first.getString("epoch");
      long max = (1L << 53) - 1;
      // at the limit: a position the channel never reached; past it: refused; the rest recover
      long[] from = {first.getLong("offset") - 1, max, max + 1, first.getLong("offset") - 1};
      clients.addAll(connectMany(token, from.length));
      String[] ids = new String[from.length];
      s.on.await(() -> {
        List<Future<Void>> writes = new ArrayList<>();
        for (int i = 0; i < from.length; i++) {
          ids[i] = clients.get(i).nextId();
          writes.add(clients.get(i).socket.writeTextMessage(new JsonObject().put("type", "subscribe").put("id", ids[i])
              .put("channels", new JsonArray().add(new JsonObject().put("channel", channel)
                  .put("recover", new JsonObject().put("offset", from[i]).put("epoch", epoch)))).encode()));
        }
        return Future.all(writes);
      });
      JsonObject[] ans = new JsonObject[from.length];
      for (int i = 0; i < from.length; i++) {
        ans[i] = clients.get(i).response(ids[i]).getJsonObject("result").getJsonArray("channels").getJsonObject(0);
      }
      assertTrue(ans[0].getBoolean("recovered"), ans[0].encode());
      assertTrue(ans[3].getBoolean("recovered"), ans[3].encode());
      assertEquals(false, ans[1].getBoolean("recovered"), ans[1].encode());
      assertFalse(ans[2].getBoolean("ok"), ans[2].encode());
      assertEquals("bad_request", ans[2].getJsonObject("error").getString("code"));
      assertTrue(ans[2].getJsonObject("error").getString("message").contains("recover.offset"), ans[2].encode());
      assertEquals("a", clients.get(0).event(channel, "n").getString("data"));
      assertEquals("a", clients.get(3).event(channel, "n").getString("data"));
    } finally {
      for (WsClient c : clients) c.close();
    }
  }

  @Test
  void aSubscriptionDroppedWhileItsReadWaitsIsAnsweredAndTheOthersStillRecover() {
    String token = s.token("storm-user2", TestServer.allGrants());
    String channel = "task:storm-recover-drop";
    try (WsClient pub = s.connect(token)) {
      Map<Long, String> published = new HashMap<>();
      JsonObject first = publish(pub, channel, "a", published);
      publish(pub, channel, "b", published);
      List<WsClient> clients = new ArrayList<>();
      try {
        clients.addAll(connectMany(token, 40));
        String[] ids = new String[clients.size()];
        List<String> frames = new ArrayList<>();
        for (int i = 0; i < clients.size(); i++) {
          ids[i] = clients.get(i).nextId();
          frames.add(new JsonObject().put("type", "subscribe").put("id", ids[i]).put("channels", new JsonArray()
              .add(new JsonObject().put("channel", channel)
                  .put("recover", new JsonObject().put("offset", first.getLong("offset") - 1).put("epoch", first.getString("epoch"))))).encode());
        }
        // half of them unsubscribe right behind their subscribe, while their reads may still wait
        s.on.await(() -> {
          List<Future<Void>> writes = new ArrayList<>();
          for (int i = 0; i < clients.size(); i++) {
            writes.add(clients.get(i).socket.writeTextMessage(frames.get(i)));
            if (i % 2 == 1) {
              writes.add(clients.get(i).socket.writeTextMessage(new JsonObject().put("type", "unsubscribe").put("id", "u" + i)
                  .put("channels", new JsonArray().add(channel)).encode()));
            }
          }
          return Future.all(writes);
        });
        for (int i = 0; i < clients.size(); i++) {
          JsonObject ch = clients.get(i).response(ids[i]).getJsonObject("result").getJsonArray("channels").getJsonObject(0);
          if (i % 2 == 1 && !ch.getBoolean("ok")) {
            // dropped while its read waited: a clear answer, not a timeout
            assertEquals("not_subscribed", ch.getJsonObject("error").getString("code"), ch.encode());
            continue;
          }
          assertTrue(ch.getBoolean("recovered"), ch.encode());
          if (i % 2 == 1) continue;
          assertEquals("a", clients.get(i).event(channel, "n").getString("data"));
          assertEquals("b", clients.get(i).event(channel, "n").getString("data"));
        }
        publish(pub, channel, "c", published);
        for (int i = 0; i < clients.size(); i += 2) assertEquals("c", clients.get(i).event(channel, "n").getString("data"));
      } finally {
        for (WsClient c : clients) c.close();
      }
    }
  }

  /**
   * Many connected clients at once, from a WebSocket client of their own (the shared one allows 50 connections per
   * server, as Vert.x does by default).
   */
  private List<WsClient> connectMany(String token, int n) {
    if (many == null) many = s.clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(n * 2));
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(s.wsPort).setURI("/ws");
    List<WsClient> out = new ArrayList<>();
    s.on.await(() -> {
      List<Future<Void>> opened = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ClientWebSocket socket = many.webSocket();
        out.add(new WsClient(socket, s.on));
        opened.add(socket.connect(o).mapEmpty());
      }
      return Future.all(opened);
    });
    List<String> ids = new ArrayList<>();
    s.on.await(() -> {
      List<Future<Void>> writes = new ArrayList<>();
      for (WsClient c : out) {
        String id = c.nextId();
        ids.add(id);
        writes.add(c.socket.writeTextMessage(new JsonObject().put("type", "request").put("id", id).put("method", "connect")
            .put("params", new JsonObject().put("token", token)).encode()));
      }
      return Future.all(writes);
    });
    for (int i = 0; i < n; i++) {
      JsonObject r = out.get(i).response(ids.get(i));
      if (r.containsKey("error")) throw new AssertionError("connect failed: " + r.encode());
      out.get(i).connectResult = r.getJsonObject("result");
    }
    return out;
  }

  private static JsonObject publish(WsClient pub, String channel, String data, Map<Long, String> into) {
    JsonObject r = pub.result("publish", new JsonObject().put("channel", channel).put("event", "n").put("data", data));
    synchronized (into) {
      into.put(r.getLong("offset"), data);
    }
    return r;
  }
}
