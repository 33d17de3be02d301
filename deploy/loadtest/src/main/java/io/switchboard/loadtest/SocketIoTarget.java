package io.switchboard.loadtest;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Socket.IO 4 in one Node process (deploy/loadtest/socketio/server.js). The first use runs {@code npm install}
 * there. Heap is V8's {@code heapUsed} after {@code global.gc()} (node --expose-gc).
 */
final class SocketIoTarget extends Target {
  private final Process process;
  private final int port;
  private JsonObject lastStats = new JsonObject();

  private SocketIoTarget(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static SocketIoTarget start(Options o, Path outDir) throws IOException {
    Path dir = o.path("socketio-dir", Launch.home().resolve("socketio"));
    if (!Files.exists(dir.resolve("server.js"))) throw new IllegalStateException("no Socket.IO baseline at " + dir);
    if (!Files.isDirectory(dir.resolve("node_modules/socket.io"))) npmInstall(dir, outDir);
    int port = freePort();
    Path log = outDir.resolve("socketio.log");
    ProcessBuilder pb = new ProcessBuilder(List.of(o.string("node", "node"), "--expose-gc", "server.js"))
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().put("PARENT_PID", Long.toString(ProcessHandle.current().pid()));
    Process p = pb.start();
    Launch.track(p);
    SocketIoTarget t = new SocketIoTarget(p, port);
    try {
      awaitReady("http://127.0.0.1:" + port + "/stats", p, log, 60_000);
      t.lastStats = new JsonObject(get("http://127.0.0.1:" + port + "/stats"));
    } catch (RuntimeException | InterruptedException e) {
      t.close();
      throw new IllegalStateException(e.getMessage(), e);
    }
    return t;
  }

  private static void npmInstall(Path dir, Path outDir) throws IOException {
    System.err.println("loadtest: npm install in " + dir + " (first use of the Socket.IO baseline)");
    Path log = outDir.resolve("npm-install.log");
    Process p = new ProcessBuilder(List.of("npm", "install", "--no-audit", "--no-fund")).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    Launch.track(p);
    try {
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
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
    return "socketio";
  }

  @Override
  Protocol protocol() {
    return new SocketIoProtocol();
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
      lastStats = new JsonObject(get("http://127.0.0.1:" + port + "/stats"));
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
    return new JsonObject().put("server", "socket.io " + lastStats.getString("version") + " on Node " + lastStats.getString("node")
        + ", one process, websocket transport, no compression");
  }

  @Override
  public void close() {
    stop(process, 5000);
  }
}
