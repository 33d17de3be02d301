package io.switchboard.loadtest;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A server under test: where to connect, which protocol it speaks, which processes' CPU counts as "server CPU",
 * and how to read its memory. Started (and stopped) by the tool, except an external Switchboard given by URL.
 */
abstract class Target implements AutoCloseable {
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  /** Short name used in tables and files: switchboard-memory, switchboard-redis, raw-vertx, socketio. */
  abstract String label();

  abstract Protocol protocol();

  String host() {
    return "127.0.0.1";
  }

  abstract int port();

  /** Every port clients may use (the gateways of a cluster); subscribers are spread over them. */
  List<Integer> ports() {
    return List.of(port());
  }

  /** The processes whose CPU time is the server's (the JVM; plus redis-server for the Redis engine). */
  abstract List<Long> pids();

  /**
   * {@code count} tokens for subjects {@code prefix-0…}, minted by the server's own auth service; protocols
   * without auth get empty strings.
   */
  List<String> tokens(int count, String prefix) {
    return java.util.Collections.nCopies(count, "");
  }

  /** Connections the server itself counts as open, or -1 when it cannot tell. */
  abstract long serverConnections();

  /** Heap in use after a full GC and RSS (bytes), plus anything else worth reporting. */
  abstract JsonObject memory();

  /** The class histogram of the server JVM, or null when it is not a single JVM. */
  java.util.Map<String, long[]> classHistogram() {
    return null;
  }

  /** What this target is (version, engine, settings) for the report. */
  abstract JsonObject describe();

  @Override
  public abstract void close();

  // --- helpers ----------------------------------------------------------------------------------

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port: " + e.getMessage(), e);
    }
  }

  static String get(String url) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) throw new IOException("GET " + url + " → " + r.statusCode() + " " + r.body());
    return r.body();
  }

  /** Waits until {@code url} answers 2xx, failing early when {@code process} died. */
  static void awaitReady(String url, Process process, Path log, long timeoutMs) {
    long until = System.currentTimeMillis() + timeoutMs;
    String last = "";
    while (System.currentTimeMillis() < until) {
      if (process != null && !process.isAlive()) {
        throw new IllegalStateException("server exited with " + process.exitValue() + " before it was ready; see " + log);
      }
      try {
        get(url);
        return;
      } catch (IOException e) {
        last = e.getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted");
      }
      sleep(200);
    }
    throw new IllegalStateException("server not ready at " + url + " within " + timeoutMs + " ms (" + last + "); see " + log);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  /** Stops a child process: SIGTERM, then SIGKILL after a grace period. */
  static void stop(Process p, long graceMs) {
    if (p == null) return;
    p.destroy();
    try {
      if (!p.waitFor(graceMs, java.util.concurrent.TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    Launch.untrack(p);
  }
}
