package io.switchboard.loadtest;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The machine and code a result belongs to: CPUs, memory, kernel, Java, Node, git commit. */
final class Machine {
  private Machine() {}

  static JsonObject describe() {
    JsonObject m = new JsonObject().put("cpus", Runtime.getRuntime().availableProcessors());
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          m.put("cpuModel", line.substring(line.indexOf(':') + 1).trim());
          break;
        }
      }
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) m.put("memoryMB", Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024);
      }
      m.put("kernel", Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
    } catch (Exception e) {
      // not Linux: leave it out
    }
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.put("node", run("node", "--version"));
    m.put("openFilesLimit", ProcStats.openFilesLimit());
    String root = Launch.root().toString();
    String commit = run("git", "-C", root, "rev-parse", "--short", "HEAD");
    if (commit != null) {
      String status = run("git", "-C", root, "status", "--porcelain", "--untracked-files=no");
      m.put("gitCommit", commit + (status != null && !status.isBlank() ? " (with uncommitted changes)" : ""));
    }
    return m;
  }

  static String run(String... cmd) {
    try {
      Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
      String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) return null;
      return s;
    } catch (Exception e) {
      return null;
    }
  }
}
