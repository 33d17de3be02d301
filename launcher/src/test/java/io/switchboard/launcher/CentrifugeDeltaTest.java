package io.switchboard.launcher;

import static io.switchboard.launcher.CentrifugeTest.append;
import static io.switchboard.launcher.CentrifugeTest.connected;
import static io.switchboard.launcher.CentrifugeTest.publication;
import static io.switchboard.launcher.CentrifugeTest.sha256;
import static io.switchboard.launcher.CentrifugeTest.subscribe;
import static io.switchboard.launcher.CentrifugeTest.subscribed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fossil delta compression with centrifuge-js's {@code delta: 'fossil'}: an assistant's answer streamed token by
 * token, each publication resending the whole content so far ({@code quest.content_delta}). A delta client and a
 * plain client on the same channel must both reconstruct every version exactly; the delta one must need a fraction
 * of the bytes.
 */
class CentrifugeDeltaTest {
  static TestServer s;
  static final int TOKENS = 2000;

  @BeforeAll
  static void start() {
    JsonObject cfg = SharedServer.config();
    cfg.getJsonObject("channels").getJsonObject("namespaces").put("quest", new JsonObject().put("historySize", 100));
    s = TestServer.start(cfg);
  }

  @AfterAll
  static void stop() {
    if (s != null) s.close();
  }

  /** The versions of a streamed answer: {content: the first n tokens, seq: n}. */
  private static List<JsonObject> answer(int tokens) {
    String[] words = {"the", "agent", "plans", "a", "refactor", "of", "module", "tests", "pass", "and", "then", "ships", "it",
        "carefully", "-", "step", "1:", "read", "code,", "write", "patch."};
    Random r = new Random(11);
    StringBuilder content = new StringBuilder();
    List<JsonObject> versions = new ArrayList<>();
    for (int n = 1; n <= tokens; n++) {
      content.append(n == 1 ? "" : " ").append(words[r.nextInt(words.length)]);
      if (n % 97 == 0) content.append("\\n\\n## Section ").append(n / 97).append('\n');
      versions.add(new JsonObject().put("quest", "q1").put("content", content.toString()).put("seq", n));
    }
    return versions;
  }

  @Test
  void everyVersionIsReconstructedFromFarFewerBytes() {
    List<JsonObject> versions = answer(TOKENS);
    String grants = "subscribe,history";
    try (NodeScript delta = connected(s, s.token("cf-delta", TestServer.grants("quest:*", grants)));
         NodeScript plain = connected(s, s.token("cf-plain", TestServer.grants("quest:*", grants)))) {
      subscribe(delta, "quest:q1", new JsonObject().put("delta", "fossil"), "digest");
      subscribed(delta, "quest:q1");
      subscribe(plain, "quest:q1", null, "digest");
      subscribed(plain, "quest:q1");
      long bytesDelta0 = stats(delta, null).getLong("bytes");
      long bytesPlain0 = stats(plain, null).getLong("bytes");
      // publish in windows the readers keep up with (the plain one reads ~14 KB per publication by the end)
      int sent = 0;
      while (sent < TOKENS) {
        for (int k = 0; k < 20 && sent < TOKENS; k++) append(s, "quest:q1", "quest.content_delta", versions.get(sent++));
        expect(delta, "quest:q1", versions, sent);
        expect(plain, "quest:q1", versions, sent);
      }
      JsonObject ds = stats(delta, "quest:q1");
      long deltaBytes = ds.getLong("bytes") - bytesDelta0;
      long plainBytes = stats(plain, null).getLong("bytes") - bytesPlain0;
      JsonObject st = ds.getJsonObject("delta");
      System.out.printf("fossil delta: %d publications, %d bytes on the wire with delta, %d without (%.1fx fewer); "
          + "%d full, %d delta payloads%n", TOKENS, deltaBytes, plainBytes, (double) plainBytes / deltaBytes,
          st.getInteger("numFullPayloads"), st.getInteger("numDeltaPayloads"));
      assertTrue(plainBytes >= 5 * deltaBytes, "at least 5x fewer bytes: " + plainBytes + " vs " + deltaBytes);
      // the first publication after subscribe is full, every later one a delta
      assertEquals(1, st.getInteger("numFullPayloads"));
      assertEquals(TOKENS - 1, st.getInteger("numDeltaPayloads"));
    }
  }

  /** After a cut the recovered publications come full and the chain continues with deltas, every version exact. */
  @Test
  void recoveryIsFullAndTheChainContinues() {
    List<JsonObject> versions = answer(60);
    try (NodeScript delta = connected(s, s.token("cf-delta2", TestServer.grants("quest:*", "subscribe")))) {
      subscribe(delta, "quest:q2", new JsonObject().put("delta", "fossil"), "digest");
      subscribed(delta, "quest:q2");
      for (int i = 0; i < 20; i++) append(s, "quest:q2", "quest.content_delta", versions.get(i));
      expect(delta, "quest:q2", versions, 20);
      // the connection is cut and stays down while 20 more are published
      delta.send(new JsonObject().put("op", "cut").put("hold", true));
      delta.event("connecting");
      for (int i = 20; i < 40; i++) append(s, "quest:q2", "quest.content_delta", versions.get(i));
      delta.send(new JsonObject().put("op", "release"));
      delta.event("connected");
      JsonObject again = subscribed(delta, "quest:q2");
      assertTrue(again.getBoolean("recovered"), again.encode());
      for (int i = 40; i < 60; i++) append(s, "quest:q2", "quest.content_delta", versions.get(i));
      expectFrom(delta, "quest:q2", versions, 20, 60);
      JsonObject st = stats(delta, "quest:q2").getJsonObject("delta");
      // full: the first after the first subscribe, the 20 recovered; every live one after them a delta
      assertEquals(21, st.getInteger("numFullPayloads"), st.encode());
      assertEquals(39, st.getInteger("numDeltaPayloads"), st.encode());
    }
  }

  /** Takes the client's next publications up to {@code upTo} and checks each is the exact version. */
  private static void expect(NodeScript n, String channel, List<JsonObject> versions, int upTo) {
    expectFrom(n, channel, versions, seen.getOrDefault(n, 0), upTo);
  }

  private static final java.util.Map<NodeScript, Integer> seen = new java.util.IdentityHashMap<>();

  private static void expectFrom(NodeScript n, String channel, List<JsonObject> versions, int from, int upTo) {
    for (int i = from; i < upTo; i++) {
      JsonObject p = publication(n, channel);
      assertEquals(i + 1, p.getInteger("seq"), "in order");
      assertEquals(sha256(versions.get(i).encode()), p.getString("digest"), "version " + (i + 1) + " reconstructed exactly");
    }
    seen.put(n, upTo);
  }

  private static JsonObject stats(NodeScript n, String channel) {
    JsonObject cmd = new JsonObject().put("op", "stats");
    if (channel != null) cmd.put("channel", channel);
    n.send(cmd);
    return n.event("stats");
  }
}
