package io.switchboard.launcher;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The whole system in a child JVM (memory engine unless the env says otherwise), with its output in a log file, for
 * tests that must read what the server logged (no stack trace for any client input).
 */
final class ServerProcess implements AutoCloseable {
  final int wsPort = Ports.free();
  final int authPort = Ports.free();
  final int opsPort = Ports.free();
  final Path log;
  private final Process process;
  private final HttpClient http = HttpClient.newHttpClient();

  ServerProcess(String name, Map<String, String> env) throws IOException {
    Path dir = Path.of("target", "server-logs");
    Files.createDirectories(dir);
    log = dir.resolve(name + ".log");
    Files.deleteIfExists(log);
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx384m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SWITCHBOARD_GATEWAY_HOST", "127.0.0.1");
    pb.environment().put("SWITCHBOARD_GATEWAY_PORT", Integer.toString(wsPort));
    pb.environment().put("SWITCHBOARD_AUTH_HOST", "127.0.0.1");
    pb.environment().put("SWITCHBOARD_AUTH_PORT", Integer.toString(authPort));
    pb.environment().put("SWITCHBOARD_OPERATIONS_HOST", "127.0.0.1");
    pb.environment().put("SWITCHBOARD_OPERATIONS_PORT", Integer.toString(opsPort));
    pb.environment().put("SWITCHBOARD_ADMIN_KEY", TestServer.ADMIN_KEY);
    pb.environment().putAll(env);
    process = pb.start();
    Await.until(name + " ready (log " + log + ")", Duration.ofSeconds(60), () -> {
      if (!process.isAlive()) throw new AssertionError(name + " exited: " + logText());
      return status("/health/ready") == 200;
    });
  }

  int status(String path) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + path)).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  boolean alive() {
    return process.isAlive();
  }

  String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
