package io.switchboard.launcher;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.Ports;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Real Switchboard JVMs for cluster tests: each {@link Node} is a separate {@code java} process running the
 * launcher's {@code Main --cluster --services …} on loopback, with its own ports and log file under
 * {@code target/cluster-logs/<test class>}. They share one Redis and one Hazelcast cluster name unique to this run.
 */
final class ClusterProcesses implements AutoCloseable {
  static final String ADMIN_KEY = "sba_cluster_admin_key_0123456789";
  static final List<String> JVM_FLAGS = List.of("--add-modules", "java.se",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
      "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  /** One JVM of the cluster. */
  final class Node {
    final String name;
    final String services;
    final int wsPort = Ports.free();
    final int authPort = Ports.free();
    final int opsPort = Ports.free();
    final Path log;
    /** This node's environment on top of the common one; a null value removes a common variable. */
    final Map<String, String> env;
    final List<String> jvmFlags;
    final List<String> args;
    Process process;

    Node(String name, String services) {
      this(name, services, Map.of(), List.of(), List.of());
    }

    Node(String name, String services, Map<String, String> env, List<String> jvmFlags, List<String> args) {
      this.name = name;
      this.services = services;
      this.log = logDir.resolve(name + ".log");
      this.env = env;
      this.jvmFlags = jvmFlags;
      this.args = args;
    }

    void start() throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(JVM_FLAGS);
      cmd.addAll(jvmFlags);
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "--cluster", "--services", services));
      cmd.addAll(args);
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      Map<String, String> env = pb.environment();
      env.putAll(commonEnv);
      env.put("SWITCHBOARD_GATEWAY_PORT", Integer.toString(wsPort));
      env.put("SWITCHBOARD_AUTH_PORT", Integer.toString(authPort));
      env.put("SWITCHBOARD_OPERATIONS_PORT", Integer.toString(opsPort));
      this.env.forEach((k, v) -> {
        if (v == null) env.remove(k);
        else env.put(k, v);
      });
      process = pb.start();
    }

    /** Waits until /health/ready answers 200 (the cluster joined, Redis answers, services deployed). */
    void awaitReady() {
      Await.until(name + " ready (log: " + log + ")", Duration.ofSeconds(90), () -> {
        if (!process.isAlive()) throw new AssertionError(name + " exited with " + process.exitValue() + "; log: " + tail());
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

    /** The body of a GET on this node's operations port ("" when it does not answer). */
    String body(String path) {
      try {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + path)).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.ofString()).body();
      } catch (IOException e) {
        return "";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "";
      }
    }

    /** kill -9: no drain, no goodbye to the cluster. */
    void kill() {
      process.destroyForcibly();
      Await.until(name + " dead", () -> !process.isAlive());
    }

    /** SIGTERM: the launcher's shutdown hook drains the gateway and leaves the cluster. */
    void terminate() {
      terminate(Duration.ofSeconds(30));
    }

    /** SIGTERM, then the JVM must have exited within {@code grace} (a kubelet would SIGKILL it then). */
    void terminate(Duration grace) {
      process.destroy();
      Await.until(name + " stopped after SIGTERM", grace, () -> !process.isAlive());
    }

    /** kill -9, then the same node (same ports, same log) started again; waits until it is ready. */
    void killAndRestart() throws IOException {
      kill();
      start();
      awaitReady();
    }

    /** SIGSTOP: the JVM freezes (a long GC pause, a stalled VM); its sockets stay open and nothing answers. */
    void pause() {
      signal("STOP");
    }

    /** SIGCONT: a paused JVM runs on from where it stopped. */
    void resume() {
      signal("CONT");
    }

    private void signal(String name) {
      try {
        Process k = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).redirectErrorStream(true).start();
        if (k.waitFor() != 0) throw new AssertionError("kill -" + name + " " + process.pid() + ": " + new String(k.getInputStream().readAllBytes()));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted sending SIG" + name);
      }
    }

    String tail() {
      try {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
      } catch (IOException e) {
        return "(no log)";
      }
    }
  }

  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<String, String> commonEnv = new HashMap<>();
  private final Path logDir;
  private final List<Node> nodes = new ArrayList<>();

  ClusterProcesses(String redisUrl, Map<String, String> extraEnv) throws IOException {
    // one folder per test class: a later cluster test must not overwrite the logs of a failed one
    logDir = Path.of("target", "cluster-logs", StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).getCallerClass().getSimpleName());
    Files.createDirectories(logDir);
    int base = 20000 + ThreadLocalRandom.current().nextInt(2000) * 10;
    commonEnv.put("SWITCHBOARD_ENGINE", "redis");
    commonEnv.put("SWITCHBOARD_REDIS_URL", redisUrl);
    commonEnv.put("SWITCHBOARD_ADMIN_KEY", ADMIN_KEY);
    commonEnv.put("SWITCHBOARD_CLUSTER_NAME", "sb-test-" + Long.toHexString(System.nanoTime()));
    commonEnv.put("SWITCHBOARD_CLUSTER_HOST", "127.0.0.1");
    commonEnv.put("SWITCHBOARD_CLUSTER_PORT", Integer.toString(base));
    commonEnv.put("SWITCHBOARD_CLUSTER_MEMBERS", "127.0.0.1:" + base + "-" + (base + 9));
    commonEnv.put("SWITCHBOARD_GATEWAY_INSTANCES", "2");
    commonEnv.put("SWITCHBOARD_GATEWAY_HOST", "127.0.0.1");
    commonEnv.put("SWITCHBOARD_AUTH_HOST", "127.0.0.1");
    commonEnv.put("SWITCHBOARD_OPERATIONS_HOST", "127.0.0.1");
    commonEnv.putAll(extraEnv);
    for (File f : logDir.toFile().listFiles()) f.delete();
  }

  /** Starts a node with its own environment, JVM flags and arguments (see {@link Node#env}); does not wait. */
  Node start(String name, String services, Map<String, String> env, List<String> jvmFlags, List<String> args) throws IOException {
    Node n = new Node(name, services, env, jvmFlags, args);
    n.start();
    nodes.add(n);
    return n;
  }

  /** Starts nodes in parallel and waits until all are ready. */
  List<Node> start(String... nameThenServices) throws IOException {
    List<Node> started = new ArrayList<>();
    for (int i = 0; i < nameThenServices.length; i += 2) {
      Node n = new Node(nameThenServices[i], nameThenServices[i + 1]);
      n.start();
      nodes.add(n);
      started.add(n);
    }
    for (Node n : started) n.awaitReady();
    return started;
  }

  @Override
  public void close() {
    for (Node n : nodes) if (n.process != null) n.process.destroyForcibly();
  }
}
