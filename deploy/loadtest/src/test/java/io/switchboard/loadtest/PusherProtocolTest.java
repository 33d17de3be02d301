package io.switchboard.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Pusher adapter's wire details and the target naming of before/after and Pusher compares. */
class PusherProtocolTest {
  @Test
  void signsTriggersLikePushersWorkedExample() {
    // Pusher's documented example: POST /apps/3/events at 1353088179 with key 278d425bdf160c739803
    String body = "{\"name\":\"foo\",\"channels\":[\"project-3\"],\"data\":\"{\\\"some\\\":\\\"data\\\"}\"}";
    assertEquals(body, PusherProtocol.triggerBody("foo", "project-3", "{\"some\":\"data\"}"));
    String q = PusherProtocol.signedQuery("278d425bdf160c739803", PusherProtocol.mac("7ad3773142a6692b25b8"), "/apps/3/events",
        body.getBytes(StandardCharsets.UTF_8), 1353088179);
    assertEquals("auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
        + "&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c", q);
  }

  @Test
  void readsStampAndSequenceFromTheDataString() {
    String data = Frames.payload(1_700_000_000_123_456L, 42, 100);
    // what Switchboard and Soketi send: the event's data is the payload as a JSON string
    Buffer frame = Buffer.buffer(new JsonObject().put("event", "lt").put("channel", "bench-a-0").put("data", data).encode());
    assertTrue(Frames.after(frame, PusherProtocol.EVENT_LT, 0) >= 0);
    assertEquals(1_700_000_000_123_456L, Frames.longValue(frame, PusherProtocol.TS));
    assertEquals(42, Frames.longValue(frame, PusherProtocol.SEQ));
    Buffer control = Buffer.buffer("{\"event\":\"pusher:connection_established\",\"data\":\"{\\\"socket_id\\\":\\\"1.2\\\"}\"}");
    assertEquals(-1, Frames.after(control, PusherProtocol.EVENT_LT, 0));
  }

  @Test
  void channelNamesArePusherNames() {
    assertEquals("bench-", new PusherProtocol("a", "k", "s").channelPrefix());
    assertTrue("bench-lx3k-0".matches("[A-Za-z0-9_\\-=@,.;]+"));
  }

  @Test
  void everyJarIsATargetOfItsOwnAndPusherTargetsExpandLikeSwitchboard(@TempDir Path dir) throws Exception {
    Path a = Files.createFile(dir.resolve("a.jar"));
    Path b = Files.createFile(dir.resolve("b.jar"));
    Options o = new Options(new String[] {"--servers", "switchboard,switchboard-pusher,raw,soketi", "--switchboard-jar", a.toString(),
        "--switchboard-jar", "before=" + b, "--out", dir.resolve("out").toString()}, 0);
    Campaign c = new Campaign("compare", Scenario.of("fanout"), o);
    assertEquals(List.of("switchboard-memory", "switchboard-memory@before", "switchboard-pusher-memory", "switchboard-pusher-memory@before",
        "raw", "soketi"), c.targets());
    assertEquals(List.of(new SwitchboardTarget.Jar("", a), new SwitchboardTarget.Jar("before", b)), SwitchboardTarget.jars(o));
  }

  @Test
  void twoUnlabelledJarsOrAMissingJarAreErrors(@TempDir Path dir) throws Exception {
    Path a = Files.createFile(dir.resolve("a.jar"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SwitchboardTarget.jars(
        new Options(new String[] {"--switchboard-jar", a.toString(), "--switchboard-jar", a.toString()}, 0)));
    assertTrue(e.getMessage().contains("label"), e.getMessage());
    IllegalStateException missing = assertThrows(IllegalStateException.class, () -> SwitchboardTarget.jars(
        new Options(new String[] {"--switchboard-jar", "old=" + dir.resolve("nope.jar")}, 0)));
    assertTrue(missing.getMessage().contains("nope.jar"), missing.getMessage());
  }

  @Test
  void anUnknownServerIsNamed(@TempDir Path dir) {
    Options o = new Options(new String[] {"--servers", "pusher", "--out", dir.toString()}, 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Campaign("compare", Scenario.of("fanout"), o).targets());
    assertTrue(e.getMessage().contains("'pusher'") && e.getMessage().contains("soketi"), e.getMessage());
  }
}
