package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The admin dashboard on the operations port: login with the admin key into an HttpOnly, SameSite=Strict session
 * cookie, the cluster page, refusals — over plain HTTP, then in a real headless chromium.
 */
class AdminConsoleTest {
  private final TestServer s = SharedServer.get();
  private final HttpClient http = HttpClient.newHttpClient(); // no cookie handler: every cookie is explicit
  private String base() {
    return "http://127.0.0.1:" + s.opsPort;
  }

  private HttpResponse<String> get(String path, String cookie) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path));
    if (cookie != null) b.header("Cookie", cookie);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String form, String cookie, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path))
        .header("content-type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form));
    if (cookie != null) b.header("Cookie", cookie);
    for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject lastSample(String cookie) throws Exception {
    HttpResponse<String> r = get("/admin/api/series", cookie);
    assertEquals(200, r.statusCode(), r.body());
    io.vertx.core.json.JsonArray samples = new JsonObject(r.body()).getJsonArray("nodes").getJsonObject(0).getJsonArray("samples");
    assertFalse(samples.isEmpty());
    return samples.getJsonObject(samples.size() - 1);
  }

  private static String form(String key) {
    return "key=" + URLEncoder.encode(key, StandardCharsets.UTF_8);
  }

  @Test
  void loginSetsAStrictHttpOnlySessionAndTheApiNeedsIt() throws Exception {
    HttpResponse<String> page = get("/admin/", null);
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("<form method=\"post\" action=\"/admin/login\""), page.body());
    assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("frame-ancestors 'none'"));
    assertEquals(401, get("/admin/api/cluster", null).statusCode());

    HttpResponse<String> wrong = post("/admin/login", form("not-the-key"), null);
    assertEquals(401, wrong.statusCode());
    assertTrue(wrong.body().contains("That is not the admin key."));
    assertTrue(wrong.headers().firstValue("Set-Cookie").isEmpty());

    HttpResponse<String> foreign = post("/admin/login", form(TestServer.ADMIN_KEY), null, "Origin", "https://evil.example");
    assertEquals(403, foreign.statusCode());

    HttpResponse<String> ok = post("/admin/login", form(TestServer.ADMIN_KEY), null, "Origin", base());
    assertEquals(303, ok.statusCode());
    assertEquals("/admin/", ok.headers().firstValue("Location").orElse(""));
    String setCookie = ok.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(setCookie.startsWith(AdminConsole.COOKIE + "="), setCookie);
    for (String attribute : List.of("httponly", "samesite=strict", "path=/admin")) assertTrue(setCookie.toLowerCase().contains(attribute), setCookie);
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));

    HttpResponse<String> cluster = get("/admin/api/cluster", cookie);
    assertEquals(200, cluster.statusCode(), cluster.body());
    JsonObject body = new JsonObject(cluster.body());
    JsonObject node = body.getJsonArray("nodes").getJsonObject(0);
    assertEquals(body.getString("self"), node.getString("node"));
    assertEquals(List.of("store", "presence", "auth", "gateway"), node.getJsonArray("services").getList());
    assertTrue(node.getLong("uptimeSeconds") >= 0 && node.getJsonObject("heap").getLong("maxBytes") > 0);
    assertNotNull(node.getLong("connections"));
    assertEquals("ok", node.getString("eventBus"));
    assertTrue(get("/admin/", cookie).body().contains("<table id=\"nodes\">"));

    // the charts' samples: cumulative counters every two seconds, per node
    assertEquals(401, get("/admin/api/series", null).statusCode());
    long before = lastSample(cookie).getLong("publishes");
    try (WsClient c = s.connect(s.token("series-probe", TestServer.allGrants()))) {
      c.result("publish", new JsonObject().put("channel", "task:series-probe").put("event", "e"));
    }
    io.switchboard.common.test.Await.until("a sample counting the publish", () -> {
      try {
        return lastSample(cookie).getLong("publishes") > before;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });

    HttpResponse<String> noHeader = post("/admin/api/auth/revoke", "{\"subject\":\"x\"}", cookie);
    assertEquals(403, noHeader.statusCode());
    HttpResponse<String> badAction = post("/admin/api/auth/drop-tables", "{}", cookie, AdminConsole.CSRF_HEADER, "1");
    assertEquals(404, badAction.statusCode());
    HttpResponse<String> badGrant = post("/admin/api/auth/token", "{\"subject\":\"x\",\"grants\":[{\"channel\":\"a\",\"capabilities\":[\"fly\"]}]}",
        cookie, AdminConsole.CSRF_HEADER, "1");
    assertEquals(400, badGrant.statusCode());
    assertTrue(badGrant.body().contains("bad_request"), badGrant.body());

    // logout is a state change: it needs the header no cross-site form can send
    assertEquals(403, post("/admin/logout", "", cookie).statusCode());
    assertEquals(200, post("/admin/logout", "", cookie, AdminConsole.CSRF_HEADER, "1").statusCode());
    assertEquals(401, get("/admin/api/cluster", cookie).statusCode());
  }

  private String login() throws Exception {
    HttpResponse<String> ok = post("/admin/login", form(TestServer.ADMIN_KEY), null, "Origin", base());
    assertEquals(303, ok.statusCode());
    String setCookie = ok.headers().firstValue("Set-Cookie").orElseThrow();
    return setCookie.substring(0, setCookie.indexOf(';'));
  }

  private JsonObject channels(String cookie, String query) throws Exception {
    HttpResponse<String> r = get("/admin/api/channels?" + query, cookie);
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  /** The busiest channels: ranked by subscribers (cluster-wide) or by publications per second, within a prefix. */
  @Test
  void channelsRankedBySubscribersAndByPublishRate() throws Exception {
    String cookie = login();
    String prefix = "task:rank-" + io.switchboard.common.Ids.hex(4) + "-";
    String crowded = prefix + "crowded", busy = prefix + "busy";
    try (WsClient a = s.connect(s.token("rank-a", TestServer.allGrants()));
        WsClient b = s.connect(s.token("rank-b", TestServer.allGrants()));
        WsClient c = s.connect(s.token("rank-c", TestServer.allGrants()))) {
      a.subscribe(crowded, busy);
      b.subscribe(crowded);
      c.subscribe(crowded);
      JsonObject bySubscribers = channels(cookie, "prefix=" + prefix + "&sort=subscribers");
      assertEquals(List.of(crowded, busy), bySubscribers.getJsonArray("channels").stream().map(o -> ((JsonObject) o).getString("channel")).toList());
      assertEquals(3, bySubscribers.getJsonArray("channels").getJsonObject(0).getInteger("subscribers"));
      assertEquals(2, bySubscribers.getInteger("total"));
      assertEquals(1, channels(cookie, "prefix=" + prefix + "&sort=subscribers&limit=1").getJsonArray("channels").size());
      assertTrue(channels(cookie, "prefix=" + prefix + "&sort=subscribers&limit=1").getBoolean("more"));

      // publications on the quieter channel between two rankings: it leads by rate
      channels(cookie, "prefix=" + prefix + "&sort=rate");
      for (int i = 0; i < 20; i++) a.result("publish", new JsonObject().put("channel", busy).put("event", "tick").put("data", i));
      a.event(busy, "tick");
      JsonObject byRate = channels(cookie, "prefix=" + prefix + "&sort=rate");
      JsonObject top = byRate.getJsonArray("channels").getJsonObject(0);
      assertEquals(busy, top.getString("channel"), byRate.encode());
      assertTrue(top.getDouble("rate") > 0, byRate.encode());
      assertEquals(0.0, byRate.getJsonArray("channels").getJsonObject(1).getDouble("rate"), byRate.encode());
    }
    // each gateway node answers at most its top channels by subscribers and by publications, and says it cut
    String few = "task:top-" + io.switchboard.common.Ids.hex(4) + "-";
    try (WsClient a = s.connect(s.token("top-a", TestServer.allGrants()));
        WsClient b = s.connect(s.token("top-b", TestServer.allGrants()))) {
      a.subscribe(few + "one", few + "two", few + "three");
      b.subscribe(few + "one", few + "two");
      for (int i = 0; i < 3; i++) a.result("publish", new JsonObject().put("channel", few + "three").put("event", "e").put("data", i));
      a.event(few + "three", "e");
      String node = io.switchboard.common.Fanout.of(s.sb.vertx()).gatewayNodes().iterator().next();
      java.util.function.IntFunction<JsonObject> counts = top -> io.switchboard.common.test.Await.result(s.sb.vertx().eventBus()
          .<JsonObject>request(io.switchboard.common.Addresses.gatewayCounts(node),
              new JsonObject().put("prefix", few).put("published", true).put("top", top)).map(m -> m.body()));
      JsonObject all = counts.apply(3);
      assertFalse(all.getBoolean("cut", false), all.encode());
      assertEquals(3, all.getJsonObject("channels").size(), all.encode());
      JsonObject cut = counts.apply(1);
      assertTrue(cut.getBoolean("cut"), cut.encode());
      // the top one by subscribers (one or two: a tie) and the top one by publications (three)
      assertEquals(2, cut.getJsonObject("channels").size(), cut.encode());
      assertTrue(cut.getJsonObject("channels").containsKey(few + "three"), cut.encode());
      assertTrue(cut.getJsonObject("published").getLong(few + "three") >= 1, cut.encode());
    }
    assertEquals(400, get("/admin/api/channels?sort=loudest", cookie).statusCode());
    assertEquals(400, get("/admin/api/channels?limit=0", cookie).statusCode());
    assertEquals(400, get("/admin/api/channels?limit=" + (AdminConsole.CHANNEL_LIST_LIMIT + 1), cookie).statusCode());
    assertEquals(401, get("/admin/api/channels", null).statusCode());
  }

  /** Disconnect by connection id or by subject: the session closes; bad requests are refused by name. */
  @Test
  void disconnectByConnectionOrSubject() throws Exception {
    String cookie = login();
    assertEquals(403, post("/admin/api/disconnect", "{\"subject\":\"x\"}", cookie).statusCode());
    HttpResponse<String> nothing = post("/admin/api/disconnect", "{\"reason\":\"why not\"}", cookie, AdminConsole.CSRF_HEADER, "1");
    assertEquals(400, nothing.statusCode());
    assertTrue(nothing.body().contains("name a subject, a connection id, or both"), nothing.body());
    HttpResponse<String> notText = post("/admin/api/disconnect", "{\"subject\":7}", cookie, AdminConsole.CSRF_HEADER, "1");
    assertEquals(400, notText.statusCode());
    assertTrue(notText.body().contains("subject must be a string"), notText.body());
    assertEquals(400, post("/admin/api/disconnect", "[1]", cookie, AdminConsole.CSRF_HEADER, "1").statusCode());

    String subject = "disconnect-me-" + io.switchboard.common.Ids.hex(4);
    try (WsClient one = s.connect(s.token(subject, TestServer.allGrants()));
        WsClient two = s.connect(s.token(subject, TestServer.allGrants()));
        WsClient bystander = s.connect(s.token("bystander", TestServer.allGrants()))) {
      String id = one.connectResult.getString("client");
      HttpResponse<String> r = post("/admin/api/disconnect", new JsonObject().put("connection", id).encode(), cookie,
          AdminConsole.CSRF_HEADER, "1");
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(io.switchboard.common.CloseCode.FORBIDDEN, one.awaitClose());
      assertTrue(two.isOpen(), "only that connection");
      assertEquals(200, post("/admin/api/disconnect", new JsonObject().put("subject", subject).encode(), cookie,
          AdminConsole.CSRF_HEADER, "1").statusCode());
      assertEquals(io.switchboard.common.CloseCode.FORBIDDEN, two.awaitClose());
      // the subject was not revoked: it may connect again
      try (WsClient again = s.connect(s.token(subject, TestServer.allGrants()))) {
        assertTrue(again.isOpen());
      }
      assertTrue(bystander.isOpen());
    }
  }

  /** Debian's chromium, headless: bad login refused, good login shows this node, the cookie is out of scripts' reach. */
  @Test
  void inARealBrowser() throws Exception {
    try (WsClient client = s.connect(s.token("admin-page-viewer", TestServer.allGrants()));
        Chromium browser = Chromium.launch()) {
      browser.navigate(base() + "/admin/");
      browser.waitFor("login form", "!!document.querySelector('form input[name=key]')");
      browser.eval("document.querySelector('#key').value = 'wrong key'; document.querySelector('form').submit(); true");
      browser.waitFor("refusal shown", "document.body.innerText.includes('That is not the admin key.')");
      browser.screenshot(Path.of("target", "admin-screenshots", "login-refused.png"));

      browser.eval("document.querySelector('#key').value = '" + TestServer.ADMIN_KEY + "'; document.querySelector('form').submit(); true");
      browser.waitFor("cluster page with this node", "!!document.querySelector('#nodes tbody tr td') "
          + "&& document.querySelector('#nodes tbody tr td').textContent.includes('(this node)')");
      String text = browser.text();
      assertTrue(text.contains("Single JVM: 1 node"), text);
      assertTrue(text.contains("store, presence, auth, gateway"), text);
      assertFalse(String.valueOf(browser.eval("document.cookie")).contains(AdminConsole.COOKIE), "the session cookie is HttpOnly");
      assertTrue(client.isOpen());
      browser.waitFor("connections chart", "document.querySelector('#chart-connections polyline') !== null"
          + " && document.querySelector('#chart-connections polyline').getAttribute('points').split(' ').length >= 2");
      browser.screenshot(Path.of("target", "admin-screenshots", "cluster.png"));

      // channel page: the dashboard's own Switchboard connection tails the channel; its publish form publishes
      String channel = "task:admin-ui-" + io.switchboard.common.Ids.hex(4);
      browser.eval("location.hash = '#/channel?name=" + channel + "'; true");
      browser.waitFor("live tail", "document.getElementById('tail-state').textContent.startsWith('live')");
      browser.eval("document.getElementById('publish-data').value = '{\"text\":\"hello from the form\"}';"
          + "document.getElementById('publish-tags').value = 'ui test';"
          + "document.querySelector('#publish-form button').click(); true");
      browser.waitFor("the form's publication in the live tail",
          "[...document.querySelectorAll('#tail li')].some(li => li.textContent.includes('hello from the form'))");
      client.result("publish", new JsonObject().put("channel", channel).put("event", "from.outside").put("data", 42));
      browser.waitFor("a client's publication in the live tail",
          "[...document.querySelectorAll('#tail li')].some(li => li.textContent.includes('#2 ') && li.textContent.includes('from.outside'))");
      JsonObject first = client.result("history", new JsonObject().put("channel", channel)).getJsonArray("publications").getJsonObject(0);
      assertEquals(new JsonObject().put("text", "hello from the form"), first.getJsonObject("data"));
      assertEquals(new JsonObject().put("type", "admin").put("id", AdminConsole.DASHBOARD_SUBJECT), first.getJsonObject("source"));
      assertEquals(List.of("ui", "test"), first.getJsonArray("tags").getList());
      browser.eval("document.getElementById('active-prefix').value = 'task:admin-ui-';"
          + "document.getElementById('active-prefix').dispatchEvent(new Event('input')); true");
      browser.waitFor("the channel among the active ones",
          "[...document.querySelectorAll('#active-list a')].map(a => a.textContent).join(' ') === '" + channel + "'");
      browser.eval("document.querySelector('#history-form button').click(); true");
      browser.waitFor("history table", "document.querySelectorAll('#history tbody tr').length === 2");

      // pending acks of any subject: publish one that needs an ack, then ask for a subject that has not acked it
      browser.eval("document.getElementById('publish-event').value = 'needs.ack';"
          + "document.getElementById('publish-ack').checked = true;"
          + "document.querySelector('#publish-form button').click(); true");
      browser.waitFor("the ack-requiring publication in the tail",
          "[...document.querySelectorAll('#tail li')].some(li => li.textContent.includes('needs.ack'))");
      browser.eval("document.getElementById('pending-subject').value = 'agent-x';"
          + "document.querySelector('#pending-form button').click(); true");
      browser.waitFor("pending for agent-x", "document.getElementById('pending-state').textContent === '1 not acked by agent-x'"
          + " && document.querySelector('#pending tbody tr td:nth-child(3)').textContent === 'needs.ack'");
      // a member of the channel, disconnected from its presence row
      try (WsClient member = s.connect(s.token("member-in-ui", TestServer.allGrants()))) {
        member.subscribe(channel);
        String id = member.connectResult.getString("client");
        browser.waitFor("the member's presence row", "[...document.querySelectorAll('#presence tbody tr')].some(r => r.textContent.includes('" + id + "'))");
        browser.screenshot(Path.of("target", "admin-screenshots", "channel.png"));
        browser.eval("[...document.querySelectorAll('#presence tbody tr')].find(r => r.textContent.includes('" + id + "'))"
            + ".querySelector('button').click(); true");
        assertEquals(io.switchboard.common.CloseCode.FORBIDDEN, member.awaitClose());
      }

      // actions: mint a token, revoke a connected subject and see its connection go
      browser.eval("location.hash = '#/actions'; document.getElementById('token-subject').value = 'minted-in-ui';"
          + "document.querySelector('#token-form button').click(); true");
      browser.waitFor("minted token", "document.getElementById('token-out').textContent.startsWith('token for minted-in-ui')");
      String minted = String.valueOf(browser.eval("document.getElementById('token-out').textContent.split('\\n')[1]"));
      try (WsClient withMinted = s.connect(minted)) {
        assertEquals("minted-in-ui", withMinted.connectResult.getString("subject"));
      }
      String victim = "revoked-in-ui-" + io.switchboard.common.Ids.hex(4);
      try (WsClient doomed = s.connect(s.token(victim, TestServer.allGrants()))) {
        browser.eval("document.getElementById('revoke-target').value = '" + victim + "';"
            + "document.querySelector('#revoke-form button').click(); true");
        browser.waitFor("revoked", "document.getElementById('revoke-out').textContent.startsWith('revoked')");
        assertEquals(io.switchboard.common.CloseCode.FORBIDDEN, doomed.awaitClose());
      }
      // disconnect one connection from the form: it closes, another connection of the same subject stays
      String target = "disconnected-in-ui-" + io.switchboard.common.Ids.hex(4);
      try (WsClient kicked = s.connect(s.token(target, TestServer.allGrants()));
          WsClient kept = s.connect(s.token(target, TestServer.allGrants()))) {
        String id = kicked.connectResult.getString("client");
        browser.eval("document.getElementById('disconnect-connection').value = '" + id + "';"
            + "document.querySelector('#disconnect-form button').click(); true");
        browser.waitFor("disconnect sent", "document.getElementById('disconnect-out').textContent.includes('connection " + id + "')");
        assertEquals(io.switchboard.common.CloseCode.FORBIDDEN, kicked.awaitClose());
        assertTrue(kept.isOpen());
      }
      browser.screenshot(Path.of("target", "admin-screenshots", "actions.png"));

      browser.eval("document.querySelector('#logout').click(); true");
      browser.waitFor("back at the login form", "!!document.querySelector('form input[name=key]')");
    }
  }
}
