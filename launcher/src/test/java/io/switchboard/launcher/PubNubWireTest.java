package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The PubNub REST dialect on the wire: the shapes and content types the SDK parses, bad input answered with a 400
 * naming what was wrong, the held long-poll counted and answered by a publication, publish by GET at 32 KiB and by a
 * deflated POST.
 */
class PubNubWireTest {
  static final String KEY = "pn-wire-key";
  static TestServer s;
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    JsonObject cfg = SharedServer.config();
    cfg.put("apps", new JsonArray().add(new JsonObject().put("id", "default").put("key", KEY).put("secret", "pn-wire-secret-0123")));
    cfg.put("gateway", new JsonObject().put("maxQueueBytes", 100 * 1024));
    s = TestServer.start(cfg);
  }

  @AfterAll
  static void stop() {
    if (s != null) s.close();
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  static HttpResponse<String> get(String pathAndQuery) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.wsPort + pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static void assertJson(HttpResponse<String> r) {
    assertTrue(r.headers().firstValue("content-type").orElse("").contains("json"), () -> "no JSON content type: " + r.headers());
  }

  @Test
  void timeIsASeventeenDigitTimetoken() throws Exception {
    HttpResponse<String> r = get("/time/0");
    assertEquals(200, r.statusCode());
    assertJson(r);
    String tt = new JsonArray(r.body()).getString(0);
    assertEquals(17, tt.length());
    assertTrue(Math.abs(Long.parseLong(tt) / 10_000 - System.currentTimeMillis()) < 60_000);
  }

  @Test
  void badInputIsA400NamingWhatWasWrong() throws Exception {
    String token = s.token("wire-bad", TestServer.allGrants());
    String auth = "&uuid=wire-bad&auth=" + token;
    HttpResponse<String> r = get("/v2/subscribe/nope/task:x/0?tt=0" + auth);
    assertEquals(400, r.statusCode());
    assertJson(r);
    assertTrue(new JsonObject(r.body()).getString("message").contains("Invalid Subscribe Key"), r.body());
    r = get("/v2/subscribe/" + KEY + "/task:x/0?tt=abc" + auth);
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("tt must be a timetoken"), r.body());
    r = get("/v2/subscribe/" + KEY + "/,/0?tt=0&channel-group=g" + auth);
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("channel groups are not supported"), r.body());
    r = get("/v2/subscribe/" + KEY + "/task:x/0?tt=0&auth=" + token);
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("uuid is required"), r.body());
    r = get("/publish/" + KEY + "/" + KEY + "/0/task:x/0/" + enc("{not json") + "?uuid=wire-bad&auth=" + token);
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("Invalid JSON"), r.body());
    r = get("/v2/subscribe/" + KEY + "/task:x/0?tt=0&uuid=wire-bad");
    assertEquals(403, r.statusCode());
    assertJson(r);
    JsonObject denied = new JsonObject(r.body());
    assertEquals("Access Manager", denied.getString("service"));
    assertEquals(true, denied.getBoolean("error"));
    // the server survives all of it
    assertEquals(200, get("/time/0").statusCode());
  }

  /**
   * filter-expr: the supported language is accepted up to {@link PubNubFilter#MAX_LENGTH} characters; anything else
   * is a 400 in PubNub's shape naming what and where. Publish meta travels in the envelope's {@code u}, bounded.
   */
  @Test
  void filterExpressionsAndMetaOnTheWire() throws Exception {
    String token = s.token("wire-filter", TestServer.allGrants());
    String ch = "task:wire-filter";
    String base = "/v2/subscribe/" + KEY + "/" + enc(ch) + "/0?uuid=wire-filter&auth=" + token;
    for (String bad : new String[] {"meta.n % 10 == 0", "meta.a == ", "meta.a IN ('x')", "(meta.a == 'x'", "meta == 'x'",
        "meta.n > 'text'", "'x' == 'y'", "meta.a == 'unterminated"}) {
      HttpResponse<String> r = get(base + "&tt=0&filter-expr=" + enc(bad));
      assertEquals(400, r.statusCode(), bad + " -> " + r.body());
      assertJson(r);
      JsonObject e = new JsonObject(r.body());
      assertEquals(true, e.getBoolean("error"));
      assertTrue(e.getString("message").startsWith("filter-expr: ") && e.getString("message").contains("position"), r.body());
    }
    // at the length limit: accepted; one past it: refused
    String longest = "meta.a == '" + "x".repeat(io.switchboard.gateway.protocol.pubnub.PubNubEndpoint.maxFilterLength() - 12) + "'";
    assertEquals(io.switchboard.gateway.protocol.pubnub.PubNubEndpoint.maxFilterLength(), longest.length());
    assertEquals(200, get(base + "&tt=0&filter-expr=" + enc(longest)).statusCode());
    HttpResponse<String> tooLong = get(base + "&tt=0&filter-expr=" + enc(longest + " "));
    assertEquals(400, tooLong.statusCode());
    assertTrue(tooLong.body().contains("longer than"), tooLong.body());

    // a filtered subscriber: only the message that passes, with its meta in u
    HttpResponse<String> hs = get(base + "&tt=0&filter-expr=" + enc("meta.level >= 3 && data.kind == \"alert\""));
    String cursor = new JsonObject(hs.body()).getJsonObject("t").getString("t");
    String pubAuth = "?uuid=wire-fpub&auth=" + s.token("wire-fpub", TestServer.allGrants());
    String pubBase = "/publish/" + KEY + "/" + KEY + "/0/" + enc(ch) + "/0/";
    assertEquals(200, get(pubBase + enc("{\"kind\":\"alert\",\"n\":1}") + pubAuth + "&meta=" + enc("{\"level\":2}")).statusCode());
    assertEquals(200, get(pubBase + enc("{\"kind\":\"info\",\"n\":2}") + pubAuth + "&meta=" + enc("{\"level\":5}")).statusCode());
    assertEquals(200, get(pubBase + enc("{\"kind\":\"alert\",\"n\":3}") + pubAuth + "&meta=" + enc("{\"level\":3}") + "&norep=true").statusCode());
    HttpResponse<String> got = get(base + "&tt=" + cursor + "&tr=1&filter-expr=" + enc("meta.level >= 3 && data.kind == \"alert\""));
    JsonArray m = new JsonObject(got.body()).getJsonArray("m");
    assertEquals(1, m.size(), got.body());
    assertEquals(3, m.getJsonObject(0).getJsonObject("d").getInteger("n"));
    assertEquals(new JsonObject().put("level", 3), m.getJsonObject(0).getJsonObject("u"));

    // meta: a JSON object of at most 4 KiB; store: 0 or 1
    HttpResponse<String> r = get(pubBase + enc("1") + pubAuth + "&meta=" + enc("[1]"));
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("meta must be a JSON object"), r.body());
    String atLimit = "{\"p\":\"" + "x".repeat(4 * 1024 - 8) + "\"}";
    assertEquals(4 * 1024, atLimit.length());
    assertEquals(200, get(pubBase + enc("1") + pubAuth + "&meta=" + enc(atLimit)).statusCode());
    r = get(pubBase + enc("1") + pubAuth + "&meta=" + enc(atLimit.replace("\"p\"", "\"pp\"")));
    assertEquals(413, r.statusCode(), r.body());
    r = get(pubBase + enc("1") + pubAuth + "&store=maybe");
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("store must be 0 or 1"), r.body());
  }

  /** ttl (hours) is the stored publication's ttl; store=0 is delivered to a held poll and never stored. */
  @Test
  void ttlAndStoreZeroOnTheWire() throws Exception {
    String ch = "task:wire-ttl";
    String pubAuth = "?uuid=wire-tpub&auth=" + s.token("wire-tpub", TestServer.allGrants());
    String pubBase = "/publish/" + KEY + "/" + KEY + "/0/" + enc(ch) + "/0/";
    String base = "/v2/subscribe/" + KEY + "/" + enc(ch) + "/0?uuid=wire-tsub&auth=" + s.token("wire-tsub", TestServer.allGrants());
    String cursor = new JsonObject(get(base + "&tt=0").body()).getJsonObject("t").getString("t");
    assertEquals(200, get(pubBase + enc("\"kept\"") + pubAuth + "&ttl=2&meta=" + enc("{\"k\":1}")).statusCode());
    assertEquals(200, get(pubBase + enc("\"live only\"") + pubAuth + "&store=0").statusCode());
    JsonArray m = new JsonObject(get(base + "&tt=" + cursor + "&tr=1").body()).getJsonArray("m");
    assertEquals(List.of("kept", "live only"), m.stream().map(o -> ((JsonObject) o).getString("d")).toList());
    HttpResponse<String> h = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.wsPort + "/api/history"))
        .header("x-api-key", TestServer.ADMIN_KEY).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("channel", ch).encode())).build(), HttpResponse.BodyHandlers.ofString());
    JsonArray stored = new JsonObject(h.body()).getJsonArray("publications");
    assertEquals(1, stored.size(), h.body());
    assertEquals("kept", stored.getJsonObject(0).getString("data"));
    assertEquals(2 * 3600, stored.getJsonObject(0).getInteger("ttl"));
    assertEquals(new JsonObject().put("k", 1), stored.getJsonObject(0).getJsonObject("meta"));
  }

  /** store=0 would go around a channel's publish rate (counted where publications are appended): refused there. */
  @Test
  void storeZeroIsRefusedWhereTheNamespaceLimitsThePublishRate() throws Exception {
    String pubAuth = "?uuid=wire-rate&auth=" + s.token("wire-rate", TestServer.allGrants());
    String slow = "/publish/" + KEY + "/" + KEY + "/0/" + enc("slow:wire") + "/0/";
    HttpResponse<String> refused = get(slow + enc("\"x\"") + pubAuth + "&store=0");
    assertEquals(400, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("must be stored"), refused.body());
    assertEquals(200, get(slow + enc("\"x\"") + pubAuth).statusCode());
    // where no rate applies, store=0 stays available
    assertEquals(200, get("/publish/" + KEY + "/" + KEY + "/0/" + enc("task:wire-rate") + "/0/" + enc("\"x\"") + pubAuth + "&store=0").statusCode());
  }

  /** A held poll is counted, answered by the next publication with PubNub's envelope, and the cursor acknowledges it. */
  @Test
  void aHeldPollIsAnsweredByAPublication() throws Exception {
    String token = s.token("wire-poll", TestServer.allGrants());
    String ch = "task:wire-poll";
    String base = "/v2/subscribe/" + KEY + "/" + enc(ch) + "/0?uuid=wire-poll&auth=" + token;
    HttpResponse<String> hs = get(base + "&tt=0");
    assertEquals(200, hs.statusCode(), hs.body());
    String cursor = new JsonObject(hs.body()).getJsonObject("t").getString("t");
    int before = io.switchboard.gateway.protocol.pubnub.PubNubEndpoint.heldPolls();
    CompletableFuture<HttpResponse<String>> poll = http.sendAsync(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + s.wsPort + base + "&tt=" + cursor + "&tr=1")).build(), HttpResponse.BodyHandlers.ofString());
    Await.until("the poll is held", () -> {
      if (poll.isDone()) throw new AssertionError("answered at once: " + poll.join().body());
      return io.switchboard.gateway.protocol.pubnub.PubNubEndpoint.heldPolls() == before + 1;
    });
    HttpResponse<String> pub = get("/publish/" + KEY + "/" + KEY + "/0/" + enc(ch) + "/0/" + enc("{\"hello\":1}") + "?uuid=wire-pub&auth="
        + s.token("wire-pub", TestServer.allGrants()));
    assertEquals(200, pub.statusCode(), pub.body());
    JsonArray sent = new JsonArray(pub.body());
    assertEquals(1, sent.getInteger(0));
    assertEquals("Sent", sent.getString(1));
    HttpResponse<String> got = poll.get();
    assertEquals(200, got.statusCode());
    assertJson(got);
    JsonObject body = new JsonObject(got.body());
    JsonObject env = body.getJsonArray("m").getJsonObject(0);
    assertEquals(sent.getString(2), env.getJsonObject("p").getString("t"));
    assertEquals(1, env.getJsonObject("p").getInteger("r"));
    assertEquals(ch, env.getString("c"));
    assertEquals("wire-pub", env.getString("i"));
    assertEquals(new JsonObject().put("hello", 1), env.getJsonObject("d"));
    assertTrue(!env.containsKey("e"), "a message carries no e");
    assertTrue(Long.parseLong(body.getJsonObject("t").getString("t")) >= Long.parseLong(sent.getString(2)));
    assertEquals(before, io.switchboard.gateway.protocol.pubnub.PubNubEndpoint.heldPolls());
    // the same cursor again (the answer was lost): the same message once more; the new cursor: nothing
    HttpResponse<String> again = get(base + "&tt=" + cursor + "&tr=1");
    assertEquals(1, new JsonObject(again.body()).getJsonArray("m").size(), again.body());
  }

  /**
   * Clients with the same token share its verified claims (kept once on the gateway), exactly: a client that sets a
   * new token gets the new token's grants (wider, then narrower) while the other keeps the old token's.
   */
  @Test
  void clientsOfOneTokenShareItsClaimsButSetTokenIsPerClient() throws Exception {
    String shared = s.token("wire-shared", TestServer.grants("task:shared-a", "subscribe,presence"));
    String a = "/v2/subscribe/" + KEY + "/%s/0?uuid=wire-shared-a&tt=0&auth=";
    String b = "/v2/subscribe/" + KEY + "/%s/0?uuid=wire-shared-b&tt=0&auth=";
    assertEquals(200, get(a.formatted("task:shared-a") + shared).statusCode());
    assertEquals(200, get(b.formatted("task:shared-a") + shared).statusCode());
    assertEquals(403, get(a.formatted("task:shared-b") + shared).statusCode());
    // a sets a wider token: a may subscribe to b's channel, b (the old shared token) still may not
    String wider = s.token("wire-shared", TestServer.grants("task:shared-*", "subscribe,presence"));
    HttpResponse<String> aWide = get(a.formatted("task:shared-b") + wider);
    assertEquals(200, aWide.statusCode(), aWide.body());
    HttpResponse<String> bOld = get(b.formatted("task:shared-b") + shared);
    assertEquals(403, bOld.statusCode(), bOld.body());
    assertJson(bOld);
    // a sets a narrower token (no task:shared-a): refused there now; b keeps task:shared-a
    String narrower = s.token("wire-shared", TestServer.grants("task:shared-b", "subscribe,presence"));
    HttpResponse<String> aNarrow = get(a.formatted("task:shared-a") + narrower);
    assertEquals(403, aNarrow.statusCode(), aNarrow.body());
    HttpResponse<String> bStill = get(b.formatted("task:shared-a") + shared);
    assertEquals(200, bStill.statusCode(), bStill.body());
  }

  /** GET publish with a 32 KiB message in the path, and a deflated POST (the Node SDK's sendByPost since 9.4). */
  @Test
  void publishAtThe32KiBLimitByGetAndDeflatedPost() throws Exception {
    String token = s.token("wire-big", TestServer.allGrants());
    String q = "?uuid=wire-big&auth=" + token;
    String atLimit = "\"" + "x".repeat(32 * 1024 - 2) + "\"";
    HttpResponse<String> r = get("/publish/" + KEY + "/" + KEY + "/0/task:wire-big/0/" + enc(atLimit) + q);
    assertEquals(200, r.statusCode(), r.body());
    r = get("/publish/" + KEY + "/" + KEY + "/0/task:wire-big/0/" + enc(atLimit + " ") + q);
    assertEquals(413, r.statusCode(), r.body());
    assertJson(r);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DeflaterOutputStream d = new DeflaterOutputStream(bytes, new Deflater())) {
      d.write("{\"posted\":true}".getBytes(StandardCharsets.UTF_8));
    }
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.wsPort + "/publish/" + KEY + "/" + KEY
            + "/0/task:wire-big/0" + q)).header("content-type", "application/json").header("content-encoding", "deflate")
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, post.statusCode(), post.body());
    HttpResponse<String> h = get("/v3/history/sub-key/" + KEY + "/channel/task:wire-big" + q + "&max=1");
    assertJson(h);
    JsonObject item = new JsonObject(h.body()).getJsonObject("channels").getJsonArray("task:wire-big").getJsonObject(0);
    assertEquals(new JsonObject().put("posted", true), item.getJsonObject("message"));
  }

  static String handshake(String base) throws Exception {
    HttpResponse<String> hs = get(base + "&tt=0");
    assertEquals(200, hs.statusCode(), hs.body());
    return new JsonObject(hs.body()).getJsonObject("t").getString("t");
  }

  static String publishGet(String ch, String json, String uuid) throws Exception {
    HttpResponse<String> r = get("/publish/" + KEY + "/" + KEY + "/0/" + enc(ch) + "/0/" + enc(json) + "?uuid=" + uuid + "&auth="
        + s.token(uuid, TestServer.allGrants()));
    assertEquals(200, r.statusCode(), r.body());
    return new JsonArray(r.body()).getString(2);
  }

  /** At most 100 messages per answer (the SDK warns at 100); the rest come with the next poll, in order. */
  @Test
  void aHundredMessagesPerAnswer() throws Exception {
    String ch = "task:wire-100";
    String base = "/v2/subscribe/" + KEY + "/" + enc(ch) + "/0?uuid=wire-100&auth=" + s.token("wire-100", TestServer.allGrants());
    String cursor = handshake(base);
    for (int i = 1; i <= 101; i++) publishGet(ch, Integer.toString(i), "wire-100-pub");
    JsonObject first = new JsonObject(get(base + "&tt=" + cursor + "&tr=1").body());
    assertEquals(100, first.getJsonArray("m").size());
    assertEquals(1, first.getJsonArray("m").getJsonObject(0).getInteger("d"));
    JsonObject second = new JsonObject(get(base + "&tt=" + first.getJsonObject("t").getString("t") + "&tr=1").body());
    assertEquals(1, second.getJsonArray("m").size(), second.encode());
    assertEquals(101, second.getJsonArray("m").getJsonObject(0).getInteger("d"));
  }

  /**
   * The session's buffer is bounded by maxQueueBytes (100 KiB here): under it a client that does not poll keeps its
   * messages buffered; past it the session ends (slow consumer) and the next poll catches up from the store —
   * every message once, in order, either way.
   */
  @Test
  void theBufferIsBoundedAndCatchUpSurvivesIt() throws Exception {
    String big = "\"" + "y".repeat(30 * 1024) + "\"";
    for (int n : new int[] {3, 4}) { // 3 x 30 KiB: under the bound; 4: past it
      String ch = "task:wire-bound-" + n;
      String uuid = "wire-bound-" + n;
      String base = "/v2/subscribe/" + KEY + "/" + enc(ch) + "/0?uuid=" + uuid + "&auth=" + s.token(uuid, TestServer.allGrants());
      String cursor = handshake(base);
      for (int i = 0; i < n; i++) publishGet(ch, big.substring(0, big.length() - 1) + i + "\"", uuid + "-pub");
      List<String> got = new java.util.ArrayList<>();
      while (got.size() < n) {
        HttpResponse<String> resp = get(base + "&tt=" + cursor + "&tr=1");
        assertEquals(200, resp.statusCode(), n + ": " + resp.body());
        JsonObject r = new JsonObject(resp.body());
        for (Object o : r.getJsonArray("m")) got.add(((JsonObject) o).getString("d"));
        cursor = r.getJsonObject("t").getString("t");
      }
      assertEquals(n, got.size());
      for (int i = 0; i < n; i++) assertTrue(got.get(i).endsWith("y" + i), "message " + i + " of " + n + " out of order");
    }
  }
}
