package io.switchboard.launcher;

import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A Node.js script from {@code src/test/node} run as a real third-party client (pusher-js, centrifuge-js, pubnub…,
 * installed by {@code npm ci} in the build). The script prints one JSON object per line on stdout — what it saw —
 * and the test waits for the lines it expects; stderr is kept for the failure message.
 */
final class NodeScript implements AutoCloseable {
  static final File DIR = new File("src/test/node");
  private final Process process;
  private final List<JsonObject> lines = new ArrayList<>();
  private final StringBuilder stderr = new StringBuilder();
  private final String name;

  private NodeScript(String script, Map<String, String> env, String... args) {
    this.name = script;
    List<String> cmd = new ArrayList<>();
    cmd.add("node");
    cmd.add(script);
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(DIR);
    pb.environment().putAll(env);
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new AssertionError("cannot start node " + script + ": " + e.getMessage(), e);
    }
    pump(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), true);
    pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), false);
  }

  static NodeScript start(String script, Map<String, String> env, String... args) {
    return new NodeScript(script, env, args);
  }

  private void pump(BufferedReader r, boolean out) {
    Thread t = new Thread(() -> {
      try {
        String line;
        while ((line = r.readLine()) != null) {
          if (out && line.startsWith("{")) {
            JsonObject j;
            try {
              j = new JsonObject(line);
            } catch (RuntimeException e) {
              j = new JsonObject().put("unparsed", line);
            }
            synchronized (lines) {
              lines.add(j);
            }
          } else {
            synchronized (stderr) {
              stderr.append(line).append('\n');
            }
          }
        }
      } catch (IOException ignored) {
        // the process ended
      }
    }, "node-" + name + (out ? "-out" : "-err"));
    t.setDaemon(true);
    t.start();
  }

  /** Writes one JSON line to the script's stdin (for scripts driven by the test, e.g. centrifuge-driver.js). */
  void send(JsonObject command) {
    try {
      var in = process.getOutputStream();
      in.write((command.encode() + "\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
    } catch (IOException e) {
      throw new AssertionError("cannot write to node " + name + ": " + e.getMessage() + "\n" + this, e);
    }
  }

  /** Waits for the first line (not yet taken) that matches, and removes it. */
  JsonObject take(String what, Predicate<JsonObject> p) {
    return take(what, p, Duration.ofSeconds(20));
  }

  JsonObject take(String what, Predicate<JsonObject> p, Duration timeout) {
    JsonObject[] found = new JsonObject[1];
    try {
      Await.until(what, timeout, () -> {
        synchronized (lines) {
          for (int i = 0; i < lines.size(); i++) {
            if (p.test(lines.get(i))) {
              found[0] = lines.remove(i);
              return true;
            }
          }
        }
        return false;
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\n" + this, e);
    }
    return found[0];
  }

  /** The next line with {@code "event": name}. */
  JsonObject event(String name) {
    return take(name, j -> name.equals(j.getString("event")));
  }

  /** Every line seen and not taken, and stderr: for failure messages. */
  @Override
  public String toString() {
    synchronized (lines) {
      synchronized (stderr) {
        return "node " + name + " stdout (untaken): " + lines + "\nstderr:\n" + stderr;
      }
    }
  }

  /** Waits for the script to end by itself; its exit code. */
  int waitFor(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) throw new AssertionError(name + " did not end in " + timeout + "\n" + this);
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
