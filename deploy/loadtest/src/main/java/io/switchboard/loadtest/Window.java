package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A measured interval: CPU seconds of the server processes and of the generator, and how busy the whole machine
 * was. On a 2-core machine shared by both, "machine busy" near 100% means the numbers are machine-bound.
 */
final class Window {
  private final List<Long> server;
  private final List<Long> generator;
  private final long startNanos;
  private final double serverCpu0;
  private final double serverSys0;
  private final double generatorCpu0;
  private final long[] machine0;
  private final double[] perServer0;
  private final double[] perServerSys0;

  Window(List<Long> serverPids, List<Long> generatorPids) {
    this.server = serverPids;
    this.generator = generatorPids;
    this.machine0 = ProcStats.machineJiffies();
    this.serverCpu0 = ProcStats.cpuSeconds(serverPids);
    this.serverSys0 = ProcStats.systemSeconds(serverPids);
    this.generatorCpu0 = ProcStats.cpuSeconds(generatorPids);
    this.perServer0 = new double[serverPids.size()];
    this.perServerSys0 = new double[serverPids.size()];
    for (int i = 0; i < perServer0.length; i++) {
      perServer0[i] = ProcStats.cpuSeconds(serverPids.get(i));
      perServerSys0[i] = ProcStats.systemSeconds(List.of(serverPids.get(i)));
    }
    this.startNanos = System.nanoTime();
  }

  /** {@code {seconds, serverCores, generatorCores, machineBusy}} since the start. */
  JsonObject end() {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    double serverCpu = ProcStats.cpuSeconds(server) - serverCpu0;
    double generatorCpu = ProcStats.cpuSeconds(generator) - generatorCpu0;
    double serverSys = ProcStats.systemSeconds(server) - serverSys0;
    long[] m = ProcStats.machineJiffies();
    double busy = (m[0] - machine0[0]) / (double) Math.max(1, m[1] - machine0[1]);
    // each server process on its own, in the target's pid order (a JVM first; redis-server last when there is one)
    JsonArray perProcess = new JsonArray();
    JsonArray perProcessKernel = new JsonArray();
    for (int i = 0; i < perServer0.length; i++) {
      perProcess.add(Report.round((ProcStats.cpuSeconds(server.get(i)) - perServer0[i]) / seconds, 4));
      perProcessKernel.add(Report.round((ProcStats.systemSeconds(List.of(server.get(i))) - perServerSys0[i]) / seconds, 4));
    }
    return new JsonObject()
        .put("seconds", Report.round(seconds, 3))
        .put("serverCoresPerProcess", perProcess)
        .put("serverKernelCoresPerProcess", perProcessKernel)
        .put("serverCores", Report.round(serverCpu / seconds, 3))
        // the kernel's part of it: write syscalls, and on loopback the receiving TCP stack too
        .put("serverKernelCores", Report.round(serverSys / seconds, 3))
        .put("generatorCores", Report.round(generatorCpu / seconds, 3))
        .put("machineBusy", Report.round(busy, 3))
        // CPU used by anything else on the machine (other jobs on a shared box): noise in every number
        .put("otherCores", Report.round(Math.max(0, busy * Runtime.getRuntime().availableProcessors()
            - serverCpu / seconds - generatorCpu / seconds), 3));
  }
}
