package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Config;
import io.switchboard.common.ConfigException;
import io.switchboard.common.Defaults;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** genconfig writes every default with a comment and reads back as the defaults; check-config says what start-up says. */
class ConfigCommandsTest {
  @TempDir
  Path dir;

  @Test
  void genconfigWritesEveryDefaultCommentedAndReadsBackAsTheDefaults() throws Exception {
    CliTest.Run r = CliTest.run("genconfig");
    assertEquals(0, r.code(), r.err());
    String yaml = r.out();
    List<String> lines = List.of(yaml.split("\n"));
    for (String key : leaves(Defaults.tree(), "")) {
      if (ConfigCommands.INTERNAL.contains(key)) continue;
      assertTrue(ConfigCommands.DESCRIPTIONS.containsKey(key), "no description for config key " + key + " in ConfigCommands");
      String field = key.substring(key.lastIndexOf('.') + 1);
      int at = indexOfKey(lines, key);
      assertTrue(at > 0 && lines.get(at - 1).trim().startsWith("#"), key + " has no comment above it:\n" + yaml);
      assertTrue(lines.get(at).trim().startsWith(field + ":"), key);
    }
    for (String described : ConfigCommands.DESCRIPTIONS.keySet()) {
      assertTrue(Config.get(Defaults.tree(), described) != null, "description of a key that does not exist: " + described);
    }
    Path file = dir.resolve("switchboard.yaml");
    Files.writeString(file, yaml);
    JsonObject loaded = Config.load(file, Map.of());
    assertEquals(Defaults.tree(), loaded);

    Path out = dir.resolve("out.yaml");
    CliTest.Run written = CliTest.run("genconfig", "--output", out.toString());
    assertEquals(0, written.code(), written.err());
    assertEquals(yaml, Files.readString(out));
    CliTest.Run again = CliTest.run("genconfig", "--output", out.toString());
    assertEquals(2, again.code());
    assertTrue(again.err().contains("--force"), again.err());
    assertEquals(0, CliTest.run("genconfig", "--output", out.toString(), "--force").code());

    CliTest.Run json = CliTest.run("genconfig", "--json");
    Path jsonFile = dir.resolve("switchboard.json");
    Files.writeString(jsonFile, json.out());
    assertEquals(Defaults.tree(), Config.load(jsonFile, Map.of()));
  }

  /** The line of a dotted key, found by walking its parents' indentation. */
  private static int indexOfKey(List<String> lines, String key) {
    String[] parts = key.split("\\.");
    int from = 0;
    int at = -1;
    for (int depth = 0; depth < parts.length; depth++) {
      String prefix = "  ".repeat(depth) + parts[depth] + ":";
      at = -1;
      for (int i = from; i < lines.size(); i++) {
        if (lines.get(i).startsWith(prefix)) {
          at = i;
          break;
        }
      }
      if (at < 0) return -1;
      from = at + 1;
    }
    return at;
  }

  private static List<String> leaves(JsonObject tree, String path) {
    List<String> out = new ArrayList<>();
    for (String f : tree.fieldNames()) {
      String key = path.isEmpty() ? f : path + "." + f;
      Object v = tree.getValue(f);
      if (v instanceof JsonObject o && !o.isEmpty()) out.addAll(leaves(o, key));
      else out.add(key);
    }
    return out;
  }

  @Test
  void checkConfigExitsZeroOrTwoWithTheStartUpMessage() throws Exception {
    Path good = dir.resolve("good.yaml");
    Files.writeString(good, "engine: memory\ngateway:\n  port: 9999\nchannels:\n  namespaces:\n    task: {}\n");
    CliTest.Run ok = CliTest.run("check-config", "--config", good.toString());
    assertEquals(0, ok.code(), ok.err());
    assertTrue(ok.out().startsWith("configuration OK: engine memory"), ok.out());

    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "gateway:\n  port: eighty\n");
    String startUp;
    try {
      Config.load(bad, Map.of());
      throw new AssertionError("bad config loaded");
    } catch (ConfigException e) {
      startUp = e.getMessage();
    }
    CliTest.Run refused = CliTest.run("check-config", "--config", bad.toString());
    assertEquals(2, refused.code());
    assertEquals("switchboard: " + startUp + "\n", refused.err());
    CliTest.Run flag = CliTest.run("--config", bad.toString(), "--check-config");
    assertEquals(2, flag.code());
    assertEquals(refused.err(), flag.err());
    CliTest.Run json = CliTest.run("check-config", "--config", bad.toString(), "--json");
    assertEquals(new JsonObject().put("ok", false).put("error", startUp), new JsonObject(json.out().trim()));

    CliTest.Run cluster = CliTest.run("check-config", "--cluster");
    assertEquals(2, cluster.code());
    assertTrue(cluster.err().contains("cluster mode needs the redis engine"), cluster.err());
    CliTest.Run okJson = CliTest.run("--check-config", "--config", good.toString(), "--json");
    JsonObject answer = new JsonObject(okJson.out().trim());
    assertTrue(answer.getBoolean("ok"));
    assertEquals(9999, answer.getJsonObject("config").getJsonObject("gateway").getInteger("port"));
    assertEquals("", answer.getJsonObject("config").getString("adminKey"));
  }

  /** The jar's real exit code, in a child JVM (System.exit, not just the returned code). */
  @Test
  void checkConfigProcessExitCode() throws Exception {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "gatewy: {}\n");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "check-config", "--config", bad.toString())
        .start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "check-config did not exit");
    assertEquals(2, p.exitValue());
    assertTrue(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).contains("'gatewy' is not a known setting"));
  }
}
