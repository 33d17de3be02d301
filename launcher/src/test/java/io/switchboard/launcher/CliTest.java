package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.CloseCode;
import io.switchboard.common.Ids;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.Ports;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every operator command of the jar against a running server (the shared end-to-end server), through the same
 * entry point as {@code java -jar switchboard.jar <command>}: real HTTP to the auth API, real WebSocket to the
 * gateway, exit codes and output as a user sees them.
 */
class CliTest {
  private static final TestServer s = SharedServer.get();
  private static TcpProxy proxy;

  record Run(int code, String out, String err) {
    List<JsonObject> jsonLines() {
      List<JsonObject> l = new ArrayList<>();
      for (String line : out.split("\n")) if (line.startsWith("{")) l.add(new JsonObject(line));
      return l;
    }
  }

  /** A running command: its output so far, and its exit code once it ends. */
  static final class Running {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final CompletableFuture<Integer> code = new CompletableFuture<>();

    String out() {
      return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
      return err.toString(StandardCharsets.UTF_8);
    }
  }

  static Running start(String... args) {
    Running r = new Running();
    PrintStream out = new PrintStream(r.out, true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(r.err, true, StandardCharsets.UTF_8);
    Thread t = new Thread(() -> {
      try {
        r.code.complete(Main.run(args, out, err, Map.of()));
      } catch (Throwable e) {
        r.code.completeExceptionally(e);
      }
    }, "cli " + String.join(" ", args));
    t.setDaemon(true);
    t.start();
    return r;
  }

  static Run run(String... args) {
    Running r = start(args);
    int code = Await.result(io.vertx.core.Future.fromCompletionStage(r.code), Await.DEFAULT);
    return new Run(code, r.out(), r.err());
  }

  /** A command against the shared server: endpoints and admin key given as options. */
  static Run cli(String... args) {
    return run(withServer(args));
  }

  static String[] withServer(String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(List.of("--url", "ws://127.0.0.1:" + s.wsPort + "/ws", "--auth-url", "http://127.0.0.1:" + s.authPort,
        "--admin-key", TestServer.ADMIN_KEY));
    return all.toArray(String[]::new);
  }

  private static String unique(String prefix) {
    return prefix + Ids.hex(6);
  }

  @BeforeAll
  static void startProxy() {
    proxy = TcpProxy.start(s.clientVertx, s.wsPort);
  }

  @AfterAll
  static void stopProxy() {
    if (proxy != null) proxy.close();
  }

  // --- help and usage ---------------------------------------------------------------------------------------------

  @Test
  void helpListsEveryCommandAndEachCommandHasItsOwn() {
    Run help = run("--help");
    assertEquals(0, help.code());
    for (String c : List.of("serve", "check-config", "genconfig", "token", "key", "revoke", "publish", "history", "tail", "presence")) {
      assertTrue(help.out().contains(c), c + " missing from:\n" + help.out());
      Run own = run(c, "--help");
      assertEquals(0, own.code(), c);
      assertTrue(own.out().contains("usage: switchboard " + c), c + ": " + own.out());
    }
    assertTrue(run("help", "tail").out().contains("--from"));
  }

  @Test
  void badArgumentsExitTwoNamingTheProblem() {
    Run unknown = run("frobnicate");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("unknown command 'frobnicate'"), unknown.err());
    Run option = cli("publish", "task:x", "e", "--colour", "red");
    assertEquals(2, option.code());
    assertTrue(option.err().contains("unknown option '--colour'"), option.err());
    Run missing = cli("history");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("missing the channel"), missing.err());
    Run value = run("history", "task:x", "--limit");
    assertEquals(2, value.code());
    assertTrue(value.err().contains("--limit needs a value"), value.err());
    Run noKey = run("token", "u1", "--auth-url", "http://127.0.0.1:" + s.authPort);
    assertEquals(2, noKey.code());
    assertTrue(noKey.err().contains("needs the admin key"), noKey.err());
  }

  // --- auth API commands ------------------------------------------------------------------------------------------

  @Test
  void tokenMintsAWorkingTokenWithTheGrantsAsked() {
    String subject = unique("cli-token-");
    Run r = cli("token", subject, "--grant", "task:*=subscribe,publish", "--ttl", "120");
    assertEquals(0, r.code(), r.err());
    String token = r.out().trim();
    assertTrue(r.err().contains("subject " + subject) && r.err().contains("task:*=subscribe,publish"), r.err());
    try (WsClient c = s.connect(token)) {
      assertEquals(subject, c.connectResult.getString("subject"));
      JsonObject sub = c.subscribe("task:" + subject).getJsonObject("result").getJsonArray("channels").getJsonObject(0);
      assertTrue(sub.getBoolean("ok"), sub.encode());
      JsonObject denied = c.request("history", new JsonObject().put("channel", "task:" + subject));
      assertEquals("permission_denied", denied.getJsonObject("error").getString("code"));
    }
    Run json = cli("token", subject, "--grant", "chat:1", "--json");
    assertEquals(0, json.code(), json.err());
    JsonObject answer = new JsonObject(json.out().trim());
    assertEquals(subject, answer.getString("subject"));
    assertEquals(4, answer.getJsonArray("grants").getJsonObject(0).getJsonArray("capabilities").size());
  }

  @Test
  void refusalsExitOneAndAnUnreachableServerExitsThree() {
    Run badCap = cli("token", "u1", "--grant", "task:*=subscribe,fly");
    // "fly" is not a capability, so the whole spec is taken as a channel name — which the server refuses
    assertEquals(1, badCap.code());
    assertTrue(badCap.err().contains("bad_request"), badCap.err());
    Run wrongKey = run("token", "u1", "--auth-url", "http://127.0.0.1:" + s.authPort, "--admin-key", "not-the-key");
    assertEquals(1, wrongKey.code());
    assertTrue(wrongKey.err().contains("unauthorized"), wrongKey.err());
    int nothing = Ports.free();
    Run down = run("token", "u1", "--auth-url", "http://127.0.0.1:" + nothing, "--admin-key", "k");
    assertEquals(3, down.code());
    assertTrue(down.err().contains("cannot reach the auth API"), down.err());
    Run wsDown = run("publish", "task:x", "e", "--url", "ws://127.0.0.1:" + nothing + "/ws", "--token", "x.y.z");
    assertEquals(3, wsDown.code());
    assertTrue(wsDown.err().contains("cannot reach the gateway"), wsDown.err());
    Run badToken = cli("publish", "task:x", "e", "--token", "not-a-jwt");
    assertEquals(1, badToken.code());
    assertTrue(badToken.err().contains("4001"), badToken.err());
    // an expired token is refused for good (4501 at connect is not worth a retry: the same token stays expired)
    JsonObject shortLived = new JsonObject(cli("token", "cli-expiring", "--grant", "task:*", "--ttl", "1", "--json").out().trim());
    long expiresAt = java.time.Instant.parse(shortLived.getString("expiresAt")).toEpochMilli();
    Await.until("token expired", () -> System.currentTimeMillis() > expiresAt + 1000);
    Run expired = cli("tail", "task:x", "--token", shortLived.getString("token"));
    assertEquals(1, expired.code(), expired.err());
    assertTrue(expired.err().contains("4501"), expired.err());
  }

  @Test
  void keyCreateMintDeleteCycle() {
    String subject = unique("cli-agent-");
    Run created = cli("key", "create", subject, "--grant", "agent.{sub}.cmd=subscribe", "--channel", "cmd=agent.{sub}.cmd", "--json");
    assertEquals(0, created.code(), created.err());
    JsonObject key = new JsonObject(created.out().trim());
    assertNotNull(key.getString("id"));

    Run minted = cli("token", "--api-key", key.getString("key"), "--json");
    assertEquals(0, minted.code(), minted.err());
    JsonObject t = new JsonObject(minted.out().trim());
    assertEquals(subject, t.getString("subject"));
    assertEquals("agent." + subject + ".cmd", t.getJsonObject("channels").getString("cmd"));

    Run deleted = cli("key", "delete", key.getString("id"));
    assertEquals(0, deleted.code(), deleted.err());
    assertTrue(deleted.out().contains("deleted key " + key.getString("id")));
    Run again = cli("key", "delete", key.getString("id"));
    assertEquals(1, again.code());
    assertTrue(again.err().contains("not_found"), again.err());
    Run gone = cli("token", "--api-key", key.getString("key"));
    assertEquals(1, gone.code());
    Run human = cli("key", "create", subject, "--grant", "task:*");
    assertEquals(0, human.code(), human.err());
    assertTrue(human.out().startsWith("id   ") && human.out().contains("\nkey  "), human.out());
    assertEquals(2, cli("key", "rotate", "x").code());
  }

  @Test
  void revokeClosesTheSubjectsConnections() {
    String subject = unique("cli-revoked-");
    try (WsClient c = s.connect(s.token(subject, TestServer.allGrants()))) {
      Run r = cli("revoke", subject);
      assertEquals(0, r.code(), r.err());
      assertTrue(r.out().contains("revoked subject " + subject), r.out());
      assertEquals(CloseCode.FORBIDDEN, c.awaitClose());
    }
    Run json = cli("revoke", "--token-id", "jti-unknown-" + subject, "--json");
    assertEquals(0, json.code(), json.err());
    assertEquals("jti-unknown-" + subject, new JsonObject(json.out().trim()).getJsonObject("revoked").getString("tokenId"));
  }

  // --- WebSocket commands -----------------------------------------------------------------------------------------

  @Test
  void publishReachesSubscribersWithTheOptionsGiven() {
    String channel = unique("task:cli-pub-");
    try (WsClient sub = s.connect(s.token(unique("cli-sub-"), TestServer.allGrants()))) {
      sub.subscribe(channel);
      Run r = cli("publish", channel, "task.updated", "{\"status\":\"done\"}", "--priority", "high", "--tag", "a", "--tag", "b",
          "--requires-ack", "--correlation-id", "m-1");
      assertEquals(0, r.code(), r.err());
      assertTrue(r.out().startsWith("published task.updated to " + channel + ": offset 1, epoch "), r.out());
      JsonObject e = sub.event(channel, "task.updated");
      assertEquals(new JsonObject().put("status", "done"), e.getJsonObject("data"));
      assertEquals("high", e.getString("priority"));
      assertEquals(new JsonArray().add("a").add("b"), e.getJsonArray("tags"));
      assertTrue(e.getBoolean("requiresAck"));
      assertEquals("m-1", e.getString("correlationId"));
      assertEquals(new JsonObject().put("type", "service").put("id", ClientCommands.DEFAULT_AS), e.getJsonObject("source"));

      Run text = cli("publish", channel, "note", "plain words", "--as", "ops-bot", "--json");
      assertEquals(0, text.code(), text.err());
      assertEquals(2L, new JsonObject(text.out().trim()).getLong("offset"));
      JsonObject e2 = sub.event(channel, "note");
      assertEquals("plain words", e2.getString("data"));
      assertEquals("ops-bot", e2.getJsonObject("source").getString("id"));
    }
    Run feed = cli("publish", unique("feed:cli-"), "x");
    assertEquals(1, feed.code());
    assertTrue(feed.err().contains("permission_denied"), feed.err());
    Run badPriority = cli("publish", channel, "x", "--priority", "urgent");
    assertEquals(1, badPriority.code());
    assertTrue(badPriority.err().contains("priority must be one of"), badPriority.err());
  }

  @Test
  void historyWithFilters() {
    String channel = unique("task:cli-hist-");
    assertEquals(0, cli("publish", channel, "one", "1", "--tag", "x").code());
    assertEquals(0, cli("publish", channel, "two", "2").code());
    assertEquals(0, cli("publish", channel, "three", "3", "--tag", "x", "--priority", "critical").code());

    Run all = cli("history", channel);
    assertEquals(0, all.code(), all.err());
    String[] lines = all.out().split("\n");
    assertEquals(4, lines.length, all.out());
    assertTrue(lines[0].startsWith("#1  ") && lines[0].contains("  one  service:switchboard-cli  1"), lines[0]);
    assertTrue(lines[3].startsWith("(3 publications; " + channel + " is at offset 3, epoch "), lines[3]);

    Run tagged = cli("history", channel, "--tag", "x", "--reverse", "--json");
    assertEquals(0, tagged.code(), tagged.err());
    JsonArray pubs = new JsonObject(tagged.out().trim()).getJsonArray("publications");
    assertEquals(List.of(3L, 1L), pubs.stream().map(o -> ((JsonObject) o).getLong("offset")).toList());

    Run critical = cli("history", channel, "--priority", "critical", "--limit", "5", "--json");
    assertEquals(1, new JsonObject(critical.out().trim()).getJsonArray("publications").size());

    JsonObject position = new JsonObject(cli("history", channel, "--limit", "1", "--json").out().trim());
    Run since = cli("history", channel, "--since", "1:" + position.getString("epoch"), "--json");
    assertEquals(2, new JsonObject(since.out().trim()).getJsonArray("publications").size(), since.out());
    Run wrongEpoch = cli("history", channel, "--since", "1:nope");
    assertEquals(1, wrongEpoch.code());
    assertTrue(wrongEpoch.err().contains("unrecoverable_position"), wrongEpoch.err());
    assertEquals(2, cli("history", channel, "--since", "1").code());
  }

  @Test
  void presenceListsMembers() {
    String channel = unique("chat:cli-presence-");
    String subject = unique("cli-present-");
    try (WsClient c = s.connect(s.token(new JsonObject().put("subject", subject).put("grants", TestServer.allGrants())
        .put("info", new JsonObject().put("name", "Ana"))))) {
      c.subscribe(channel);
      c.result("presence.setState", new JsonObject().put("channel", channel).put("state", new JsonObject().put("typing", true)));
      Run r = cli("presence", channel);
      assertEquals(0, r.code(), r.err());
      assertTrue(r.out().startsWith(subject + "  client " + c.connectResult.getString("client")), r.out());
      assertTrue(r.out().contains("state {\"typing\":true}") && r.out().contains("info {\"name\":\"Ana\"}"), r.out());
      assertTrue(r.out().contains("(1 member in " + channel + ")"), r.out());
      JsonArray members = new JsonObject(cli("presence", channel, "--json").out().trim()).getJsonArray("members");
      assertEquals(1, members.size());
    }
    Run off = cli("presence", unique("typing:cli-"));
    assertEquals(1, off.code());
    assertTrue(off.err().contains("presence is off"), off.err());
  }

  // --- tail -------------------------------------------------------------------------------------------------------

  /**
   * The tail runs through a TCP proxy the test can cut. Publications made while it is cut off (and while the proxy
   * refuses its reconnects) arrive after it reconnects, recovered from its last position: offsets 1..6 exactly
   * once, in order.
   */
  @Test
  void tailRecoversAcrossReconnects() {
    String channel = unique("task:cli-tail-");
    try (WsClient pub = s.connect(s.token(unique("cli-pub-"), TestServer.allGrants()))) {
      Running tail = start("tail", channel, "--json", "--count", "6", "--url", "ws://127.0.0.1:" + proxy.port() + "/ws",
          "--auth-url", "http://127.0.0.1:" + s.authPort, "--admin-key", TestServer.ADMIN_KEY);
      // subscribed once it is a presence member of the channel (it joins before its subscribe is answered)
      Await.until("tail subscribed", () -> !pub.result("presence", new JsonObject().put("channel", channel))
          .getJsonArray("members").isEmpty());
      long seen = publish(pub, channel, "before");
      Await.until("tail prints the first publication", () -> offsets(tail).contains(seen));
      proxy.cut(true);
      Await.until("tail notices the cut", () -> tail.err().contains("reconnecting"));
      long a = publish(pub, channel, "while-away-1");
      long b = publish(pub, channel, "while-away-2");
      assertEquals(List.of(seen + 1, seen + 2), List.of(a, b));
      proxy.cut(false);
      Await.until("recovered publications", () -> offsets(tail).contains(b));
      for (int i = offsets(tail).size(); i < 6; i++) publish(pub, channel, "after");
      assertEquals(0, Await.result(io.vertx.core.Future.fromCompletionStage(tail.code)));
      List<Long> offsets = offsets(tail);
      assertEquals(6, offsets.size(), tail.out());
      for (int i = 1; i < offsets.size(); i++) assertEquals(offsets.get(i - 1) + 1, offsets.get(i), "no gap, no repeat: " + offsets);
      assertTrue(offsets.contains(a) && offsets.contains(b));
    }
  }

  @Test
  void tailFromAPastOffset() {
    String channel = unique("task:cli-from-");
    for (int i = 1; i <= 4; i++) assertEquals(0, cli("publish", channel, "e" + i).code());
    Run r = cli("tail", channel, "--from", "2", "--count", "3");
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().split("\n");
    assertEquals(3, lines.length, r.out());
    assertTrue(lines[0].startsWith("#2  ") && lines[0].contains("  e2  "), r.out());
    assertTrue(lines[2].startsWith("#4  "), r.out());
    Run denied = run("tail", channel, "--url", "ws://127.0.0.1:" + s.wsPort + "/ws",
        "--token", s.token(unique("cli-nosub-"), TestServer.grants(channel, "publish")));
    assertEquals(1, denied.code());
    assertTrue(denied.err().contains("permission_denied"), denied.err());
  }

  private static long publish(WsClient c, String channel, String event) {
    return c.result("publish", new JsonObject().put("channel", channel).put("event", event)).getLong("offset");
  }

  private static List<Long> offsets(Running tail) {
    List<Long> out = new ArrayList<>();
    for (String line : tail.out().split("\n")) {
      if (!line.startsWith("{")) continue;
      JsonObject f = new JsonObject(line);
      if (f.containsKey("offset")) out.add(f.getLong("offset"));
    }
    return out;
  }
}
