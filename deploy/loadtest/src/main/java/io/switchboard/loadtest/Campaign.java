package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code run} and {@code compare}: one scenario against one or several targets, each repeated, in rotating order so
 * drift on a shared machine spreads over all of them. Writes result.json (everything), summary.txt (what is
 * printed) and PNG plots into the output directory.
 */
final class Campaign {
  static final Set<String> KNOBS = Set.of("server", "engine", "servers", "engines", "repeat", "out", "max-minutes",
      "target-ws", "target-auth", "target-metrics", "admin-key", "server-pids", "server-jvm-opts", "server-env",
      "switchboard-jar", "socketio-dir", "soketi-dir", "node", "presence", "pause", "label", "gateways", "quiet", "protocol",
      "one-services-jvm", "gateway-jvm-opts", "jar-jvm-opts");

  private final String command;
  private final Scenario scenario;
  private final Options o;
  private final Path out;
  private final long deadline;
  /** --quiet CORES: wait until other jobs use less than this before each run, and repeat runs they disturbed. */
  private final double quiet;

  Campaign(String command, Scenario scenario, Options o) {
    this.command = command;
    this.scenario = scenario;
    this.o = o;
    Set<String> known = new HashSet<>(KNOBS);
    known.addAll(Scenario.COMMON);
    known.addAll(scenario.knobs());
    o.allowOnly(known, command + " " + scenario.name());
    scenario.validate(o);
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    this.out = o.path("out", Launch.home().resolve("results").resolve(stamp + "-" + command + "-" + scenario.name()));
    this.deadline = System.currentTimeMillis() + (long) (o.number("max-minutes", 60) * 60_000);
    this.quiet = o.number("quiet", 0);
  }

  /**
   * The targets named on the command line: switchboard-ENGINE, switchboard-pusher-ENGINE (one per
   * {@code --switchboard-jar}, suffixed {@code @LABEL} for labelled jars), external, cluster, raw, socketio, soketi.
   */
  List<String> targets() {
    List<String> servers = command.equals("run") ? List.of(o.string("server", "switchboard")) : o.names("servers", "switchboard,raw,socketio");
    List<String> engines = command.equals("run") ? List.of(o.string("engine", "memory")) : o.names("engines", "memory");
    List<String> specs = new ArrayList<>();
    for (String s : servers) {
      if (s.equals("switchboard") && o.has("target-ws")) {
        specs.add("external");
      } else if (s.equals("switchboard") || s.equals("switchboard-pusher")) {
        // several --protocol values (native,sse,longpoll,pubnub): each is a target of its own, alternating like jars
        List<String> protocols = o.names("protocol", "native");
        for (String e : engines) {
          if (!List.of("memory", "redis").contains(e)) throw new IllegalArgumentException("unknown engine '" + e + "' (memory, redis)");
          for (SwitchboardTarget.Jar j : SwitchboardTarget.jars(o)) {
            String spec = s + "-" + e + (j.label().isEmpty() ? "" : "@" + j.label());
            if (protocols.size() > 1 && s.equals("switchboard")) for (String p : protocols) specs.add(spec + "+" + p);
            else specs.add(spec);
          }
        }
      } else if (List.of("cluster", "raw", "socketio", "soketi").contains(s)) {
        specs.add(s);
      } else {
        throw new IllegalArgumentException("unknown server '" + s + "' (switchboard or switchboard-pusher with --engine(s) memory|redis, "
            + "cluster, raw, socketio, soketi)");
      }
    }
    return specs;
  }

  private Target start(String spec) throws IOException {
    if (spec.startsWith("switchboard-")) {
      String protocol = spec.contains("+") ? spec.substring(spec.indexOf('+') + 1) : null;
      if (protocol != null) spec = spec.substring(0, spec.indexOf('+'));
      String label = spec.contains("@") ? spec.substring(spec.indexOf('@') + 1) : "";
      String kind = spec.contains("@") ? spec.substring(0, spec.indexOf('@')) : spec;
      boolean pusher = kind.startsWith("switchboard-pusher-");
      String engine = kind.substring(kind.lastIndexOf('-') + 1);
      SwitchboardTarget.Jar jar = SwitchboardTarget.jars(o).stream().filter(j -> j.label().equals(label)).findFirst().orElseThrow();
      return protocol != null ? SwitchboardTarget.start(o, engine, jar, protocol, out) : SwitchboardTarget.start(o, engine, jar, pusher, out);
    }
    return switch (spec) {
      case "external" -> SwitchboardTarget.external(o);
      case "cluster" -> SwitchboardTarget.cluster(o, out);
      case "raw" -> RawTarget.start(o, out);
      case "socketio" -> SocketIoTarget.start(o, out);
      case "soketi" -> SoketiTarget.start(o, out);
      default -> throw new IllegalArgumentException(spec);
    };
  }

  JsonObject execute() throws IOException {
    Files.createDirectories(out);
    List<String> specs = targets();
    int repeat = o.bounded("repeat", 1, 1, 50);
    Thread watchdog = watchdog();
    JsonObject all = new JsonObject().put("tool", "switchboard-loadtest").put("command", command)
        .put("scenario", scenario.name()).put("options", options()).put("startedAt", java.time.Instant.now().toString())
        .put("machine", Machine.describe()).put("outDir", out.toString());
    JsonArray runs = new JsonArray();
    for (int r = 0; r < repeat; r++) {
      for (int k = 0; k < specs.size(); k++) {
        String spec = specs.get((k + r) % specs.size());
        JsonObject run = null;
        // with --quiet, a run during which other jobs used more than that many cores is run again (3 times at most)
        for (int attempt = 1; attempt <= (quiet > 0 ? 4 : 1); attempt++) {
          if (quiet > 0) waitQuiet();
          run = new JsonObject().put("target", spec).put("repeat", r + 1).put("attempt", attempt);
          System.err.println("loadtest: " + scenario.name() + " against " + spec + " (repeat " + (r + 1) + "/" + repeat + ")");
          try (Target t = start(spec)) {
            run.put("target", t.label()).put("describe", t.describe());
            run.put("result", scenario.run(t, o, out, deadline + 60_000));
          } catch (Exception e) {
            System.err.println("loadtest: " + spec + " failed: " + e.getMessage());
            run.put("error", String.valueOf(e.getMessage()));
          }
          double other = otherCores(run.getJsonObject("result"));
          run.put("maxOtherCores", other);
          if (quiet <= 0 || (other <= quiet && run.containsKey("result"))) break;
          System.err.println(run.containsKey("result")
              ? "loadtest: other jobs used " + other + " cores during the measurement; running it again"
              : "loadtest: the run failed on a busy machine; running it again");
          Target.sleep(2000);
        }
        runs.add(run);
        Files.writeString(out.resolve("result.json"), all.copy().put("runs", runs).encodePrettily());
        Target.sleep((long) (o.number("pause", 2) * 1000));
      }
    }
    all.put("runs", runs).put("finishedAt", java.time.Instant.now().toString());
    watchdog.interrupt();
    return report(all, scenario, out, quiet);
  }

  /**
   * Summarizes (medians over repeats; with {@code quiet > 0} runs disturbed by other jobs are left out of a
   * target's medians when it has undisturbed ones), writes result.json, summary.txt and the plots, prints the
   * summary. Also the {@code report} command, which redoes this for an existing result.json.
   */
  static JsonObject report(JsonObject all, Scenario scenario, Path out, double quiet) throws IOException {
    JsonArray runs = all.getJsonArray("runs");
    Set<String> clean = new HashSet<>();
    for (int i = 0; i < runs.size(); i++) {
      JsonObject run = runs.getJsonObject(i);
      if (run.containsKey("result") && (quiet <= 0 || run.getDouble("maxOtherCores", 0.0) <= quiet)) clean.add(run.getString("target"));
    }
    JsonArray used = new JsonArray();
    for (int i = 0; i < runs.size(); i++) {
      JsonObject run = runs.getJsonObject(i);
      boolean noisy = quiet > 0 && run.getDouble("maxOtherCores", 0.0) > quiet;
      run.put("noisy", noisy);
      if (noisy && clean.contains(run.getString("target"))) continue;
      used.add(run);
    }
    all.put("quiet", quiet).put("summary", summarize(used, scenario));
    String text = Summary.text(all, scenario);
    Files.writeString(out.resolve("result.json"), all.encodePrettily());
    Files.writeString(out.resolve("summary.txt"), text);
    List<Path> plots = Charts.draw(all.copy().put("runs", used), scenario, out);
    System.out.print(text);
    System.out.println("\nresults: " + out.resolve("result.json"));
    for (Path p : plots) System.out.println("plot:    " + p);
    return all;
  }

  private JsonObject options() {
    JsonObject j = new JsonObject();
    for (String k : new java.util.TreeSet<>(knownKeys())) if (o.has(k)) j.put(k, o.list(k).size() == 1 ? o.string(k, null) : new JsonArray(o.list(k)));
    return j;
  }

  private Set<String> knownKeys() {
    Set<String> k = new HashSet<>(KNOBS);
    k.addAll(Scenario.COMMON);
    k.addAll(scenario.knobs());
    return k;
  }

  /** The most CPU other jobs used in any measured window of a result (0 when unknown). */
  static double otherCores(JsonObject result) {
    if (result == null) return 0;
    double max = 0;
    for (String key : List.of("steps", "roundResults")) {
      JsonArray a = result.getJsonArray(key, new JsonArray());
      for (int i = 0; i < a.size(); i++) max = Math.max(max, a.getJsonObject(i).getDouble("otherCores", 0.0));
    }
    if (result.containsKey("storm")) max = Math.max(max, result.getJsonObject("storm").getDouble("otherCores", 0.0));
    return max;
  }

  /** Waits (at most 30 minutes) until the machine has been nearly idle for 5 s: busy cores below --quiet. */
  private void waitQuiet() {
    long until = System.currentTimeMillis() + 1_800_000;
    int calm = 0;
    long[] prev = ProcStats.machineJiffies();
    boolean told = false;
    while (calm < 5 && System.currentTimeMillis() < until) {
      Target.sleep(1000);
      long[] now = ProcStats.machineJiffies();
      double busyCores = (now[0] - prev[0]) / (double) Math.max(1, now[1] - prev[1]) * Runtime.getRuntime().availableProcessors();
      prev = now;
      calm = busyCores < quiet ? calm + 1 : 0;
      if (calm == 0 && !told) {
        System.err.println("loadtest: waiting for other jobs to finish (machine uses " + Report.round(busyCores, 2) + " cores)");
        told = true;
      }
    }
  }

  /** Per target: every headline metric as median/min/max over the repeats. */
  private static JsonObject summarize(JsonArray runs, Scenario scenario) {
    Map<String, Map<String, List<Double>>> byTarget = new LinkedHashMap<>();
    Map<String, Boolean> direction = new LinkedHashMap<>();
    for (int i = 0; i < runs.size(); i++) {
      JsonObject run = runs.getJsonObject(i);
      if (!run.containsKey("result")) continue;
      Map<String, List<Double>> metrics = byTarget.computeIfAbsent(run.getString("target"), k -> new LinkedHashMap<>());
      for (Scenario.Metric m : scenario.headline(run.getJsonObject("result"))) {
        metrics.computeIfAbsent(m.name(), k -> new ArrayList<>()).add(m.value());
        direction.putIfAbsent(m.name(), m.higherIsBetter());
      }
    }
    JsonObject s = new JsonObject();
    byTarget.forEach((target, metrics) -> {
      JsonObject t = new JsonObject();
      metrics.forEach((name, values) -> t.put(name, Report.spread(values).put("higherIsBetter", direction.get(name))));
      s.put(target, t);
    });
    return s;
  }

  /** Ends everything if the whole command runs past --max-minutes (plus a minute to stop cleanly). */
  private Thread watchdog() {
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(Math.max(0, deadline + 120_000 - System.currentTimeMillis()));
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("loadtest: --max-minutes reached; stopping every process it started");
      Launch.killAll();
      Runtime.getRuntime().halt(4);
    }, "loadtest-deadline");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
