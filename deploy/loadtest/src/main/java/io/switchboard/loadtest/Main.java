package io.switchboard.loadtest;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The load-test tool. {@code run <scenario> [knobs]} against one server, {@code compare <scenario> [knobs]}
 * against Switchboard and the baselines with the same knobs, {@code raw-server} (the baseline server), and
 * {@code worker} (a generator child process; internal).
 */
public final class Main {
  private Main() {}

  static final String USAGE = """
      usage: loadtest run <scenario> [knobs]        one server (--server switchboard|switchboard-pusher|raw|socketio|soketi,
                                                    --engine memory|redis, or a running Switchboard: --target-ws URL
                                                    --target-auth URL --admin-key K)
             loadtest compare <scenario> [knobs]    Switchboard and the baselines (--servers switchboard,raw,socketio
                                                    --engines memory[,redis]; add "cluster" for deploy/local/cluster
                                                    with --gateways 2) with the same knobs; prints ratios. Pusher
                                                    protocol 7: --servers switchboard-pusher,soketi (publishes through
                                                    the signed HTTP API POST /apps/{id}/events)
             loadtest report DIR/result.json [--quiet C]   summary and plots again (C: leave out runs other jobs disturbed)
             loadtest scale [knobs]                 one box at scale: deploy/local/cluster with 3 gateways and one
                                                    services JVM (store, presence, auth) on Redis; 57,000 idle
                                                    subscribers, then 1,000 publishes/s over 10,000 channels: RSS and
                                                    CPU per JVM, fan-out bus messages per publish, every delivery
                                                    counted. Same as: run scale --server cluster --gateways 3
                                                    --one-services-jvm --gateway-jvm-opts "%s" --concurrency 50
             loadtest raw-server [--port P]         the raw Vert.x broadcast baseline, standalone
             loadtest http-bench [--connections 2000 --subscribers 1000 --rate 100 --duration 10 --no-fanout --per-client-tokens --heap-dump DIR]
                                                    HTTP fallbacks vs WebSocket: heap per idle SSE / held poll /
                                                    WebSocket (with heap histograms), server CPU per delivery SSE vs
                                                    WebSocket
      scenarios and their knobs (defaults):
        fanout           --subscribers 1000 --rate 100[,200,…] --payload 100   deliveries/s, latency, server CPU
        channels         --channels 1000 --subscribers-per-channel 1 --rate 1000 --publishers 4   stored publishes/s
        idle             --connections 10000 --channels 100   heap and RSS per idle connection
        connect-storm    --connections 10000 --rounds 3 --tokens <connections>   connects/s incl. token verification
        reconnect-storm  --connections 5000 --channels 50 --rate 200 --before 5 --after 3   recovery time, messages missed
                         --reconnect-concurrency 1000 (per worker) --recover-timeout 120 (seconds)
        scale            --connections 57000 --channels 10000 --rate 1000 --duration 20 --publishers 4 --settle 3 --idle 5
      common knobs: --duration 20 --warmup 5 (seconds per rate step; the first step at least 10: --warmup-first)
        --repeat 1  --workers 2  --client-threads 1  --quiet C (wait for other jobs to use < C cores; re-run if they did)
        --concurrency 200 (handshakes in flight per worker)  --tokens N  --presence  --out DIR  --max-minutes 60
        --server-jvm-opts "…"  --server-env KEY=VALUE  --keep-going (sweeps)
        --switchboard-jar [LABEL=]PATH  (repeatable: each jar is a target of its own, e.g. before=old.jar; targets
                                         alternate within each repeat)
        --jar-jvm-opts LABEL=OPTS  (repeatable: JVM options for that labelled jar only, after --server-jvm-opts)
        --protocol native|centrifuge|sse|longpoll|pubnub (Switchboard: how subscribers connect; publishers stay
                                         native; several values, e.g. native,sse,longpoll,pubnub, are targets of their
                                         own in one compare)
      Everything targets loopback only and stops by itself (--max-minutes); one server process holds at most
      ~19k connections here (open-file limit), the generator spreads clients over processes and 127.0.0.x.""".formatted(ScaleScenario.GATEWAY_JVM_OPTS);

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("worker")) {
      Worker.main(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    try {
      execute(args);
      // the raw server keeps running on its (non-daemon) event loops
      if (!args[0].equals("raw-server")) System.exit(0);
    } catch (IllegalArgumentException e) {
      System.err.println("loadtest: " + e.getMessage() + "\n\n" + USAGE);
      System.exit(2);
    } catch (Exception e) {
      System.err.println("loadtest: " + e.getMessage());
      System.exit(1);
    }
  }

  /** Runs a command; returns the result of run/compare (null for the others). Tests call this directly. */
  static JsonObject execute(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
      System.out.println(USAGE);
      return null;
    }
    switch (args[0]) {
      case "raw-server" -> {
        Options o = new Options(args, 1);
        o.allowOnly(java.util.Set.of("port", "instances", "parent-pid"), "raw-server");
        RawServer.main(o);
        return null;
      }
      case "run", "compare" -> {
        if (args.length < 2) throw new IllegalArgumentException(args[0] + " needs a scenario");
        Scenario scenario = Scenario.of(args[1]);
        return new Campaign(args[0], scenario, new Options(args, 2)).execute();
      }
      case "scale" -> {
        // 50 handshakes in flight per worker: with 200, queued handshakes on a busy 2-core box outlived the server's
        // connect timeout (4503) and pongs their 10 s deadline (4502)
        List<String> a = new ArrayList<>(List.of("run", "scale", "--server", "cluster", "--gateways", "3", "--one-services-jvm",
            "--gateway-jvm-opts", ScaleScenario.GATEWAY_JVM_OPTS, "--concurrency", "50"));
        // what the caller gives comes last: the last value of a knob wins
        a.addAll(List.of(args).subList(1, args.length));
        return new Campaign("run", new ScaleScenario(), new Options(a.toArray(String[]::new), 2)).execute();
      }
      case "http-bench" -> {
        return HttpBench.run(new Options(args, 1));
      }
      case "report" -> {
        if (args.length < 2) throw new IllegalArgumentException("report needs a result.json");
        java.nio.file.Path file = java.nio.file.Path.of(args[1]).toAbsolutePath();
        Options o = new Options(args, 2);
        o.allowOnly(java.util.Set.of("quiet"), "report");
        JsonObject all = new JsonObject(java.nio.file.Files.readString(file));
        return Campaign.report(all, Scenario.of(all.getString("scenario")), file.getParent(),
            o.number("quiet", all.getDouble("quiet", 0.0)));
      }
      default -> throw new IllegalArgumentException("unknown command '" + args[0] + "'");
    }
  }
}
