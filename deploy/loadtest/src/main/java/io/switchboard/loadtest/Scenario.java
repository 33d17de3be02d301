package io.switchboard.loadtest;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** One load scenario: its knobs, how it runs against a target, and the numbers that summarize it. */
interface Scenario {
  String name();

  /** Knobs this scenario reads (besides the common ones of run/compare). */
  Set<String> knobs();

  /** Checks the knobs before any process starts, so a typo fails in a second, not after a server start. */
  void validate(Options o);

  JsonObject run(Target target, Options o, Path outDir, long deadlineMillis) throws Exception;

  /** The headline numbers of one result, in display order. */
  List<Metric> headline(JsonObject result);

  /** A named number; {@code higherIsBetter} tells how to read a ratio. */
  record Metric(String name, double value, boolean higherIsBetter) {}

  /** The knobs every scenario reads. */
  Set<String> COMMON = Set.of("duration", "warmup", "workers", "client-threads", "concurrency", "payload", "tokens");

  static Scenario of(String name) {
    return switch (name) {
      case "fanout" -> new DeliveryScenario(true);
      case "channels" -> new DeliveryScenario(false);
      case "idle" -> new IdleScenario();
      case "connect-storm" -> new ConnectStormScenario();
      case "reconnect-storm" -> new ReconnectStormScenario();
      case "scale" -> new ScaleScenario();
      default -> throw new IllegalArgumentException("unknown scenario '" + name + "' (fanout, channels, idle, connect-storm, reconnect-storm, scale)");
    };
  }

  /** The most connections one server process can hold here (its open-file limit, less room for its own files). */
  static int maxServerConnections() {
    return Math.max(100, ProcStats.openFilesLimit() - 1_000);
  }

  static String runId() {
    return Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
  }

  /** Waits until the server counts {@code expected} connections (or cannot tell), at most {@code timeoutMs}. */
  static long awaitServerConnections(Target t, long expected, long timeoutMs) {
    long until = System.currentTimeMillis() + timeoutMs;
    long n = t.serverConnections();
    while (n >= 0 && n != expected && System.currentTimeMillis() < until) {
      Target.sleep(200);
      n = t.serverConnections();
    }
    return n;
  }
}
