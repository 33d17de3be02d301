package io.switchboard.loadtest;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The local cluster of cluster mode ({@code deploy/local/cluster}): store, presence, auth and N gateway JVMs in one
 * Hazelcast cluster on one Redis, all on loopback, in a run folder of this result. Started with the same load
 * settings as a one-JVM Switchboard; every JVM and the redis-server count as server CPU.
 */
final class LocalCluster implements AutoCloseable {
  final Path run;
  final List<Integer> gatewayPorts = new ArrayList<>();
  final List<Integer> opsPorts = new ArrayList<>();
  final List<Long> pids = new ArrayList<>();
  final List<Long> jvmPids = new ArrayList<>();
  /** Every process by role (store, presence, auth or services; gateway-1…; redis), in start order. */
  final Map<String, Long> rolePids = new java.util.LinkedHashMap<>();
  /** The operations port (/metrics) of every JVM by role. */
  final Map<String, Integer> roleOps = new java.util.LinkedHashMap<>();
  int authPort;
  private final Path script;
  private final Map<String, String> env;
  private final Path log;

  private LocalCluster(Path script, Path run, Map<String, String> env, Path log) {
    this.script = script;
    this.run = run;
    this.env = env;
    this.log = log;
  }

  static LocalCluster start(Path jar, int gateways, Map<String, String> settings, Path outDir) throws IOException {
    return start(jar, gateways, false, settings, outDir);
  }

  /** With {@code oneServicesJvm} store, presence and auth run in one JVM ({@code start --one-services-jvm}). */
  static LocalCluster start(Path jar, int gateways, boolean oneServicesJvm, Map<String, String> settings, Path outDir) throws IOException {
    Path script = Launch.root().resolve("deploy/local/cluster");
    if (!Files.isExecutable(script)) throw new IllegalStateException("no local cluster script at " + script);
    Path run = outDir.resolve("cluster-run-" + System.currentTimeMillis());
    Map<String, String> env = new java.util.HashMap<>(settings);
    env.put("SB_RUN_DIR", run.toString());
    env.put("SB_JAR", jar.toString());
    env.put("SB_PORT_OFFSET", Integer.toString(freeOffset()));
    LocalCluster c = new LocalCluster(script, run, env, outDir.resolve("cluster.log"));
    Runtime.getRuntime().addShutdownHook(new Thread(c::stopQuietly, "loadtest-cluster-stop"));
    List<String> start = new ArrayList<>(List.of("start", "--gateways", Integer.toString(gateways)));
    if (oneServicesJvm) start.add("--one-services-jvm");
    if (c.command(300, start.toArray(String[]::new)) != 0) {
      c.stopQuietly();
      throw new IllegalStateException("deploy/local/cluster start failed; see " + c.log);
    }
    for (String role : oneServicesJvm ? List.of("services") : List.of("store", "presence", "auth")) c.addJvm(role);
    for (int g = 1; g <= gateways; g++) {
      c.addJvm("gateway-" + g);
      c.gatewayPorts.add(c.ports("gateway-" + g)[0]);
    }
    c.authPort = c.ports(oneServicesJvm ? "services" : "auth")[1];
    long redis = Long.parseLong(Files.readString(run.resolve("redis.pid")).trim());
    c.pids.add(redis);
    c.rolePids.put("redis", redis);
    return c;
  }

  private void addJvm(String role) throws IOException {
    long pid = Long.parseLong(Files.readString(run.resolve(role + ".pid")).trim());
    pids.add(pid);
    jvmPids.add(pid);
    opsPorts.add(ports(role)[2]);
    rolePids.put(role, pid);
    roleOps.put(role, ports(role)[2]);
  }

  /** {ws, auth, ops} of a role, from its .ports file. */
  private int[] ports(String role) throws IOException {
    String[] p = Files.readString(run.resolve(role + ".ports")).trim().split("\\s+");
    return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
  }

  /** A port offset whose ports (gateways, auth, ops, redis, Hazelcast) are all free. */
  private static int freeOffset() {
    for (int off = 21_000; off <= 39_000; off += 1_000) {
      boolean free = true;
      for (int base : new int[] {8080, 8081, 8082, 8083, 8084, 9090, 9091, 9092, 9093, 9094, 9095, 9096, 6379, 5701, 5702, 5703, 5704, 5705, 5706, 5707, 5708, 5709, 5710}) {
        try (ServerSocket s = new ServerSocket(base + off, 1, java.net.InetAddress.getLoopbackAddress())) {
          s.setReuseAddress(true);
        } catch (IOException e) {
          free = false;
          break;
        }
      }
      if (free) return off;
    }
    throw new IllegalStateException("no free port range for a local cluster");
  }

  private int command(long timeoutSeconds, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(script.toString());
    cmd.addAll(List.of(args));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_") || k.startsWith("SB_"));
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private volatile boolean stopped;

  private void stopQuietly() {
    if (stopped) return;
    stopped = true;
    command(180, "stop");
  }

  @Override
  public void close() {
    stopQuietly();
  }
}
