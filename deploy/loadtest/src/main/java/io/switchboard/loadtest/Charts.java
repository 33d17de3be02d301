package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Chooses and draws the plots of a result: latency over time and vs rate for deliveries, bars for the others. */
final class Charts {
  private Charts() {}

  static List<Path> draw(JsonObject all, Scenario scenario, Path out) throws IOException {
    List<Path> files = new ArrayList<>();
    JsonArray runs = all.getJsonArray("runs");
    String name = scenario.name();
    if (scenario instanceof DeliveryScenario) {
      Map<String, JsonObject> first = new LinkedHashMap<>();
      List<Plot.SweepLine> sweep = new ArrayList<>();
      boolean multiStep = false;
      for (int i = 0; i < runs.size(); i++) {
        JsonObject run = runs.getJsonObject(i);
        if (!run.containsKey("result")) continue;
        first.putIfAbsent(run.getString("target"), run.getJsonObject("result"));
        JsonArray steps = run.getJsonObject("result").getJsonArray("steps");
        multiStep |= steps.size() > 1;
        List<double[]> points = new ArrayList<>();
        for (int s = 0; s < steps.size(); s++) {
          JsonObject st = steps.getJsonObject(s);
          points.add(new double[] {st.getDouble("deliveriesPerSecond"), st.getJsonObject("latencyMs").getDouble("p99", 0.0),
              st.getDouble("serverCores")});
        }
        sweep.add(new Plot.SweepLine(run.getString("target"), points));
      }
      if (first.isEmpty()) return files;
      List<Plot.TimePanel> panels = new ArrayList<>();
      JsonObject any = first.values().iterator().next();
      for (Map.Entry<String, JsonObject> e : first.entrySet()) {
        List<double[]> seconds = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        JsonArray steps = e.getValue().getJsonArray("steps");
        for (int s = 0; s < steps.size(); s++) {
          JsonObject st = steps.getJsonObject(s);
          starts.add(seconds.size());
          labels.add(Report.fmt(st.getDouble("rate")) + " pub/s");
          seconds.addAll(Plot.seconds(st.getJsonArray("latencyPerSecondMs")));
        }
        panels.add(new Plot.TimePanel(e.getKey(), seconds, starts, labels));
      }
      String what = name.equals("fanout")
          ? any.getInteger("subscribers") + " subscribers on one channel"
          : any.getInteger("channels") + " channels × " + any.getInteger("subscribersPerChannel") + " subscriber(s)";
      Path latency = out.resolve(name + "-latency.png");
      Plot.latencyOverTime(latency, name + ": publish→deliver latency per second (" + what + ", " + any.getInteger("payloadBytes") + " B)", panels);
      files.add(latency);
      if (multiStep) {
        Path sw = out.resolve(name + "-sweep.png");
        Plot.sweep(sw, name + ": p99 latency and server CPU vs delivered rate (" + what + ")", sweep);
        files.add(sw);
      }
      return files;
    }
    JsonObject summary = all.getJsonObject("summary");
    List<String> targets = new ArrayList<>(summary.fieldNames());
    if (targets.isEmpty()) return files;
    List<String> metrics;
    List<String> units;
    if (name.equals("idle")) {
      metrics = List.of("heap per connection (B)", "RSS per connection (B)");
      units = List.of("bytes", "bytes");
    } else if (name.equals("connect-storm")) {
      metrics = List.of("connects/s (median round)", "server CPU ms per connect (median)");
      units = List.of("connections/s", "ms");
    } else {
      metrics = List.of("seconds until all recovered", "messages missed");
      units = List.of("seconds", "messages");
    }
    double[][] values = new double[metrics.size()][targets.size()];
    for (int m = 0; m < metrics.size(); m++) {
      for (int t = 0; t < targets.size(); t++) {
        JsonObject s = summary.getJsonObject(targets.get(t)).getJsonObject(metrics.get(m));
        values[m][t] = s == null || !s.containsKey("median") ? Double.NaN : s.getDouble("median");
      }
    }
    Path bars = out.resolve(name + ".png");
    Plot.bars(bars, name + " (medians of repeats)", metrics, targets, values, units);
    files.add(bars);
    return files;
  }
}
