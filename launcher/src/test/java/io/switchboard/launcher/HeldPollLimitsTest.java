package io.switchboard.launcher;

import static io.switchboard.launcher.GatewayHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Held long-polls are waiters on the loop's channel subscriber, not sessions: they still count as connections, are
 * bounded per gateway ({@code gateway.maxHeldPolls}), give their slot back when answered or when the client goes
 * away, and many polls of one channel are all answered by one publication.
 */
class HeldPollLimitsTest {
  static final int MAX_HELD = 2;
  static TestServer s;
  static GatewayHttp h;

  @BeforeAll
  static void start() {
    s = TestServer.start(new JsonObject().put("gateway", new JsonObject().put("maxHeldPolls", MAX_HELD).put("maxPollWaitSeconds", 30)));
    h = new GatewayHttp(s);
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  private static String token(String subject) {
    return s.token(subject, TestServer.grants("task:*", "subscribe,publish"));
  }

  private static CompletableFuture<GatewayHttp.Reply> pollAsync(String channel, String token) {
    return CompletableFuture.supplyAsync(() -> h.get("/v1/poll?channels=" + channel + "&wait=20", token));
  }

  private static double connections() {
    return s.metric("switchboard_connections");
  }

  @Test
  void theGatewayHoldsAtMostMaxHeldPollsAndFreesTheSlotWhenAnswered() {
    String publisher = token("hp-pub");
    double before = connections();
    List<CompletableFuture<GatewayHttp.Reply>> held = new ArrayList<>();
    // at the bound: two polls (two subjects, so the per-subject limit plays no part) are held
    for (int i = 0; i < MAX_HELD; i++) held.add(pollAsync("task:hp", token("hp-" + i)));
    Await.until("two polls held", () -> connections() >= before + MAX_HELD);
    // past it: refused at once, naming the bound
    GatewayHttp.Reply third = h.get("/v1/poll?channels=task:hp&wait=20", token("hp-third"));
    assertEquals(429, third.status(), third.raw());
    assertEquals("limit_exceeded", third.errorCode());
    assertTrue(third.body().getJsonObject("error").getString("message").contains("gateway.maxHeldPolls"), third.raw());
    // a poll answered at once (wait=0) is refused too while the gateway is full: admission is before any answer
    assertEquals(429, h.get("/v1/poll?channels=task:hp&wait=0", token("hp-third")).status());

    ok(h.post("/v1/channels/task:hp/publications", publisher, new JsonObject().put("event", "release")));
    for (CompletableFuture<GatewayHttp.Reply> f : held) {
      JsonObject answer = ok(f.join());
      assertEquals("release", answer.getJsonArray("events").getJsonObject(0).getString("event"), answer.encode());
    }
    Await.until("slots given back", () -> connections() <= before);
    // the slots are free again: a new poll is admitted (and answered at once with wait=0)
    JsonObject again = ok(h.get("/v1/poll?channels=task:hp&wait=0", token("hp-third")));
    assertEquals(0, again.getJsonArray("events").size());
  }

  @Test
  void aClientThatGoesAwayGivesItsSlotBack() throws Exception {
    String token = token("hp-gone");
    double before = connections();
    try (Socket socket = new Socket("127.0.0.1", s.wsPort)) {
      OutputStream out = socket.getOutputStream();
      out.write(("GET /v1/poll?channels=task:gone&wait=20 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Await.until("the poll is held", () -> connections() >= before + 1);
    }
    Await.until("the slot is given back when the client closes", () -> connections() <= before);
    // and the gateway can hold its maximum again
    List<CompletableFuture<GatewayHttp.Reply>> held = new ArrayList<>();
    for (int i = 0; i < MAX_HELD; i++) held.add(pollAsync("task:gone", token("hp-gone-" + i)));
    Await.until("two polls held", () -> connections() >= before + MAX_HELD);
    ok(h.post("/v1/channels/task:gone/publications", token, new JsonObject().put("event", "bye")));
    for (CompletableFuture<GatewayHttp.Reply> f : held) assertEquals(1, ok(f.join()).getJsonArray("events").size());
  }

  @Test
  void aRevokedTokenEndsItsHeldPollAndIsRefusedOnTheNextPoll() {
    String token = token("hp-revoked");
    // verified once (the loop remembers it for its next polls)
    ok(h.get("/v1/poll?channels=task:rev&wait=0", token));
    double before = connections();
    CompletableFuture<GatewayHttp.Reply> held = pollAsync("task:rev", token);
    Await.until("the poll is held", () -> connections() >= before + 1);
    TestServer.Reply r = s.httpCall(io.vertx.core.http.HttpMethod.POST, "/v1/revocations", TestServer.ADMIN_KEY,
        new JsonObject().put("subject", "hp-revoked").encode());
    assertEquals(202, r.status(), r.raw());
    // the held poll ends with a disconnect event (within the loop's one-second sweep)
    JsonObject answer = ok(held.join());
    JsonObject bye = answer.getJsonArray("events").getJsonObject(0);
    assertEquals("disconnect", bye.getString("type"), answer.encode());
    assertEquals(4003, bye.getInteger("code"), answer.encode());
    // and the same token is refused now, though this loop verified it a moment ago
    GatewayHttp.Reply next = h.get("/v1/poll?channels=task:rev&wait=0", token);
    assertEquals(401, next.status(), next.raw());
  }

  @Test
  void aPollFromTheHeadWaitsAndOneBehindIsAnsweredAtOnceWithWhatItMissed() {
    String token = token("hp-pos");
    JsonObject first = ok(h.post("/v1/channels/task:hpos/publications", token, new JsonObject().put("event", "one")));
    JsonObject head = ok(h.get("/v1/poll?channels=task:hpos&wait=0", token));
    assertEquals(first.getLong("offset"), head.getJsonObject("positions").getJsonObject("task:hpos").getLong("offset"));
    // two more while the client is away; its old position gets both at once, in order, and the new head
    ok(h.post("/v1/channels/task:hpos/publications", token, new JsonObject().put("event", "two")));
    JsonObject three = ok(h.post("/v1/channels/task:hpos/publications", token, new JsonObject().put("event", "three")));
    // (wait=0: answered from the store, so both are in it even if the loop has not seen them yet)
    JsonObject missed = ok(h.get("/v1/poll?channels=task:hpos&wait=0&since=" + URLEncoder.encode(head.getString("since"), StandardCharsets.UTF_8), token));
    assertEquals(2, missed.getJsonArray("events").size(), missed.encode());
    assertEquals("two", missed.getJsonArray("events").getJsonObject(0).getString("event"));
    assertEquals("three", missed.getJsonArray("events").getJsonObject(1).getString("event"));
    assertEquals(three.getLong("offset"), missed.getJsonObject("positions").getJsonObject("task:hpos").getLong("offset"));
    // a poll that waits from an old position is answered at once with what the channel has after it (from the
    // store, or as it reaches this gateway), never twice and in order
    List<String> seen = new ArrayList<>();
    String since = head.getString("since");
    while (seen.size() < 2) {
      long t0 = System.currentTimeMillis();
      JsonObject a = ok(h.get("/v1/poll?channels=task:hpos&wait=20&since=" + URLEncoder.encode(since, StandardCharsets.UTF_8), token));
      assertTrue(System.currentTimeMillis() - t0 < 10_000, "answered at once: " + a.encode());
      for (Object o : a.getJsonArray("events")) seen.add(((JsonObject) o).getString("event"));
      since = a.getString("since");
    }
    assertEquals(List.of("two", "three"), seen);
    // at the head: held, then answered by the next publication with exactly it
    double before = connections();
    CompletableFuture<GatewayHttp.Reply> held = CompletableFuture.supplyAsync(() ->
        h.get("/v1/poll?channels=task:hpos&wait=20&since=" + URLEncoder.encode(missed.getString("since"), StandardCharsets.UTF_8), token));
    Await.until("the poll is held", () -> connections() >= before + 1);
    ok(h.post("/v1/channels/task:hpos/publications", token, new JsonObject().put("event", "four")));
    JsonObject four = ok(held.join());
    assertEquals(1, four.getJsonArray("events").size(), four.encode());
    assertEquals("four", four.getJsonArray("events").getJsonObject(0).getString("event"));
    // a channel named twice is refused for the second mention, at once
    JsonObject twice = ok(h.get("/v1/poll?channels=task:hpos,task:hpos&wait=20", token));
    assertEquals("already_subscribed", twice.getJsonArray("channels").getJsonObject(1).getJsonObject("error").getString("code"), twice.encode());
  }
}
