package io.switchboard.loadtest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Child processes: how to start a JVM on this tool's classpath, and the guarantee that every process the tool
 * started dies with it (servers, workers, redis-server), whatever way the tool ends.
 */
final class Launch {
  private Launch() {}

  private static final List<Process> children = new CopyOnWriteArrayList<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(Launch::killAll, "loadtest-children"));
  }

  static List<String> java() {
    return new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
  }

  /** The classpath of this JVM: the shaded jar when run from it, the test classpath under Maven. */
  static String classpath() {
    return System.getProperty("java.class.path");
  }

  static void track(Process p) {
    children.add(p);
  }

  static void untrack(Process p) {
    children.remove(p);
  }

  static void killAll() {
    for (Process p : children) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }

  /** deploy/loadtest (the module directory): -Dloadtest.home, else found from the working directory. */
  static Path home() {
    String h = System.getProperty("loadtest.home");
    if (h != null) return Path.of(h).toAbsolutePath();
    Path cwd = Path.of("").toAbsolutePath();
    for (Path p = cwd; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("socketio")) && Files.exists(p.resolve("pom.xml"))
          && p.getFileName().toString().equals("loadtest")) {
        return p;
      }
      Path candidate = p.resolve("deploy/loadtest");
      if (Files.isDirectory(candidate.resolve("socketio"))) return candidate;
    }
    return cwd;
  }

  /** The repository root (two levels above deploy/loadtest). */
  static Path root() {
    String r = System.getProperty("loadtest.root");
    if (r != null) return Path.of(r).toAbsolutePath();
    Path h = home();
    return h.getParent() != null && h.getParent().getParent() != null ? h.getParent().getParent() : h;
  }
}
