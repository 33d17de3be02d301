package io.switchboard.loadtest;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The raw Vert.x broadcast server of this module, started as a child JVM with the same JVM options as Switchboard. */
final class RawTarget extends Target {
  private final Process process;
  private final int port;
  private final List<String> jvmOptions;

  private RawTarget(Process process, int port, List<String> jvmOptions) {
    this.process = process;
    this.port = port;
    this.jvmOptions = jvmOptions;
  }

  static RawTarget start(Options o, Path outDir) throws IOException {
    int port = freePort();
    List<String> cmd = Launch.java();
    List<String> jvm = o.words("server-jvm-opts");
    cmd.addAll(jvm);
    cmd.addAll(List.of("-cp", Launch.classpath(), Main.class.getName(), "raw-server", "--port", Integer.toString(port),
        "--parent-pid", Long.toString(ProcessHandle.current().pid())));
    Path log = outDir.resolve("raw-server.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    Launch.track(p);
    RawTarget t = new RawTarget(p, port, jvm);
    try {
      awaitReady("http://127.0.0.1:" + port + "/stats", p, log, 60_000);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
    return t;
  }

  @Override
  String label() {
    return "raw-vertx";
  }

  @Override
  Protocol protocol() {
    return new RawProtocol();
  }

  @Override
  int port() {
    return port;
  }

  @Override
  List<Long> pids() {
    return List.of(process.pid());
  }

  @Override
  long serverConnections() {
    try {
      return new JsonObject(get("http://127.0.0.1:" + port + "/stats")).getLong("connections");
    } catch (IOException | InterruptedException | RuntimeException e) {
      return -1;
    }
  }

  @Override
  JsonObject memory() {
    return new JsonObject().put("heapBytes", ProcStats.jvmHeapAfterGc(process.pid())).put("rssBytes", ProcStats.rssBytes(process.pid()));
  }

  @Override
  Map<String, long[]> classHistogram() {
    return ProcStats.classHistogram(process.pid());
  }

  @Override
  JsonObject describe() {
    return new JsonObject().put("server", "RawServer (deploy/loadtest): Vert.x " + io.vertx.core.impl.VertxImpl.version()
        + ", one verticle per core, writeTextMessage per subscriber").put("jvmOptions", new io.vertx.core.json.JsonArray(jvmOptions));
  }

  @Override
  public void close() {
    stop(process, 5000);
  }
}
