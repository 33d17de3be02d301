package io.switchboard.loadtest;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Soketi 1.6.1, the self-hosted Pusher-protocol server, in one Node process (deploy/loadtest/soketi/server.js):
 * the Pusher-protocol baseline. Its clients speak {@link PusherProtocol} to one app configured with the same key
 * and secret as Switchboard's Pusher target. The first use runs {@code npm ci} there (the committed lockfile pins
 * Soketi and the npm build of uWebSockets.js that replaces its git dependency). Heap is V8's {@code heapUsed} after
 * {@code global.gc()}; the native memory of uWebSockets.js shows in RSS only.
 */
final class SoketiTarget extends Target {
  private final Process process;
  private final int port;
  private final int statsPort;
  private JsonObject lastStats = new JsonObject();

  private SoketiTarget(Process process, int port, int statsPort) {
    this.process = process;
    this.port = port;
    this.statsPort = statsPort;
  }

  static SoketiTarget start(Options o, Path outDir) throws IOException {
    Path dir = o.path("soketi-dir", Launch.home().resolve("soketi"));
    if (!Files.exists(dir.resolve("server.js"))) throw new IllegalStateException("no Soketi baseline at " + dir);
    if (!Files.isDirectory(dir.resolve("node_modules/@soketi/soketi")) || !Files.isDirectory(dir.resolve("node_modules/uWebSockets.js"))) {
      npmInstall(dir, outDir);
    }
    int port = freePort();
    int statsPort = freePort();
    Path log = outDir.resolve("soketi.log");
    ProcessBuilder pb = new ProcessBuilder(List.of(o.string("node", "node"), "--expose-gc", "server.js"))
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().keySet().removeIf(k -> k.startsWith("SOKETI_"));
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().put("STATS_PORT", Integer.toString(statsPort));
    pb.environment().put("METRICS_PORT", Integer.toString(freePort()));
    pb.environment().put("CLUSTER_PORT", Integer.toString(freePort()));
    pb.environment().put("APP_ID", SwitchboardTarget.PUSHER_APP_ID);
    pb.environment().put("APP_KEY", SwitchboardTarget.PUSHER_KEY);
    pb.environment().put("APP_SECRET", SwitchboardTarget.PUSHER_SECRET);
    pb.environment().put("PARENT_PID", Long.toString(ProcessHandle.current().pid()));
    Process p = pb.start();
    Launch.track(p);
    SoketiTarget t = new SoketiTarget(p, port, statsPort);
    try {
      awaitReady("http://127.0.0.1:" + statsPort + "/stats", p, log, 60_000);
      t.lastStats = new JsonObject(get("http://127.0.0.1:" + statsPort + "/stats"));
    } catch (RuntimeException | InterruptedException e) {
      t.close();
      throw new IllegalStateException(e.getMessage(), e);
    }
    return t;
  }

  private static void npmInstall(Path dir, Path outDir) throws IOException {
    boolean locked = Files.exists(dir.resolve("package-lock.json"));
    System.err.println("loadtest: npm " + (locked ? "ci" : "install") + " in " + dir + " (first use of the Soketi baseline)");
    Path log = outDir.resolve("npm-install-soketi.log");
    Process p = new ProcessBuilder(List.of("npm", locked ? "ci" : "install", "--no-audit", "--no-fund")).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    Launch.track(p);
    try {
      if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("npm install failed in " + dir + "; see " + log);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    } finally {
      Launch.untrack(p);
    }
  }

  @Override
  String label() {
    return "soketi";
  }

  @Override
  Protocol protocol() {
    return new PusherProtocol(SwitchboardTarget.PUSHER_APP_ID, SwitchboardTarget.PUSHER_KEY, SwitchboardTarget.PUSHER_SECRET);
  }

  @Override
  int port() {
    return port;
  }

  @Override
  List<Long> pids() {
    return List.of(process.pid());
  }

  private JsonObject stats() {
    try {
      lastStats = new JsonObject(get("http://127.0.0.1:" + statsPort + "/stats"));
    } catch (IOException | InterruptedException | RuntimeException e) {
      // keep the last
    }
    return lastStats;
  }

  @Override
  long serverConnections() {
    return stats().getLong("connections", -1L);
  }

  @Override
  JsonObject memory() {
    JsonObject s = stats();
    return new JsonObject().put("heapBytes", s.getLong("heapUsed")).put("externalBytes", s.getLong("external"))
        .put("rssBytes", ProcStats.rssBytes(process.pid()));
  }

  @Override
  JsonObject describe() {
    return new JsonObject().put("server", "soketi " + lastStats.getString("version") + " (" + lastStats.getString("uws") + ") on Node "
        + lastStats.getString("node") + ", one process, local adapter, default limits");
  }

  @Override
  public void close() {
    stop(process, 5000);
  }
}
