package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the kernel and the JVM say about a process: CPU time (utime+stime of /proc/PID/stat, all threads), resident
 * memory (VmRSS), and for JVMs the heap in use after a forced full GC ({@code jcmd PID GC.run}, then
 * {@code GC.heap_info}) and the class histogram (what fills it).
 */
final class ProcStats {
  private ProcStats() {}

  /** Clock ticks per second of /proc CPU times ({@code getconf CLK_TCK}; 100 on Linux x86-64). */
  static final double TICKS_PER_SECOND = ticks();

  private static double ticks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
      String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      return Double.parseDouble(s);
    } catch (Exception e) {
      return 100;
    }
  }

  /** CPU seconds the process has used so far (user + system, every thread); 0 when it is gone. */
  static double cpuSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // the command name may contain spaces: fields are counted after its closing parenthesis
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  static double cpuSeconds(Collection<Long> pids) {
    double s = 0;
    for (long p : pids) s += cpuSeconds(p);
    return s;
  }

  /** CPU seconds spent in the kernel (stime) by the processes: syscalls, and on loopback the TCP stack itself. */
  static double systemSeconds(Collection<Long> pids) {
    double s = 0;
    for (long pid : pids) {
      try {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        s += Long.parseLong(f[12]) / TICKS_PER_SECOND;
      } catch (IOException | RuntimeException e) {
        // gone
      }
    }
    return s;
  }

  /** Resident set size in bytes; 0 when the process is gone. */
  static long rssBytes(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return 0;
  }

  /** Busy and total jiffies of the whole machine (/proc/stat), to tell whether it was saturated. */
  static long[] machineJiffies() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) total += Long.parseLong(f[i]);
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total - idle, total};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 1};
    }
  }

  static String jcmd(long pid, String... command) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid)));
    cmd.addAll(List.of(command));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS)) p.destroyForcibly();
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("jcmd failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  private static final Pattern USED = Pattern.compile("total (\\d+)K, used (\\d+)K");

  /** Runs several diagnostic commands in one attach ({@code jcmd PID -f FILE}): each jcmd start costs a second. */
  static String jcmdAll(long pid, String... commands) {
    try {
      Path f = Files.createTempFile("loadtest-jcmd", ".txt");
      try {
        Files.writeString(f, String.join("\n", commands) + "\n");
        return jcmd(pid, "-f", f.toString());
      } finally {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new IllegalStateException("jcmd failed: " + e.getMessage(), e);
    }
  }

  /** Heap bytes in use after two forced full collections. */
  static long jvmHeapAfterGc(long pid) {
    String info = jcmdAll(pid, "GC.run", "GC.run", "GC.heap_info");
    Matcher m = USED.matcher(info);
    if (!m.find()) throw new IllegalStateException("cannot read heap use from jcmd GC.heap_info: " + info);
    return Long.parseLong(m.group(2)) * 1024;
  }

  private static final Pattern HISTO = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

  /** Class → {instances, bytes} of live objects (forces a full GC). */
  static Map<String, long[]> classHistogram(long pid) {
    Map<String, long[]> h = new HashMap<>();
    for (String line : jcmd(pid, "GC.class_histogram").split("\n")) {
      Matcher m = HISTO.matcher(line);
      if (m.find()) h.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
    }
    return h;
  }

  /** The classes that grew most between two histograms, per connection. */
  static JsonArray topGrowth(Map<String, long[]> before, Map<String, long[]> after, int connections, int top) {
    List<Map.Entry<String, long[]>> growth = new ArrayList<>();
    for (Map.Entry<String, long[]> e : after.entrySet()) {
      long[] b = before.getOrDefault(e.getKey(), new long[] {0, 0});
      growth.add(Map.entry(e.getKey(), new long[] {e.getValue()[0] - b[0], e.getValue()[1] - b[1]}));
    }
    growth.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
    JsonArray out = new JsonArray();
    for (int i = 0; i < Math.min(top, growth.size()); i++) {
      Map.Entry<String, long[]> e = growth.get(i);
      out.add(new JsonObject().put("class", e.getKey())
          .put("instancesPerConnection", round2(e.getValue()[0] / (double) connections))
          .put("bytesPerConnection", round2(e.getValue()[1] / (double) connections)));
    }
    return out;
  }

  static double round2(double v) {
    return Math.round(v * 100) / 100.0;
  }

  /** The soft limit on open files of this process ("Max open files" of /proc/self/limits). */
  static int openFilesLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String v = line.substring("Max open files".length()).trim().split("\\s+")[0];
          return v.equals("unlimited") ? Integer.MAX_VALUE : Integer.parseInt(v);
        }
      }
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    return 20_000;
  }
}
