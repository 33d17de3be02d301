package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The human summary: what ran where, then one row per headline metric with one column per target (median, and
 * [min–max] over repeats), then Switchboard ÷ baseline ratios of the medians.
 */
final class Summary {
  private Summary() {}

  static String text(JsonObject all, Scenario scenario) {
    StringBuilder b = new StringBuilder();
    JsonObject m = all.getJsonObject("machine");
    b.append("Scenario ").append(scenario.name()).append(" (").append(all.getString("command")).append(") ")
        .append(all.getJsonObject("options").encode()).append('\n');
    b.append("Machine: ").append(m.getInteger("cpus")).append(" CPUs ").append(m.getString("cpuModel", "")).append(", ")
        .append(m.getLong("memoryMB", 0L)).append(" MB, Linux ").append(m.getString("kernel", "?")).append(", ")
        .append(m.getString("java")).append(", Node ").append(m.getString("node", "-"));
    if (m.containsKey("gitCommit")) b.append(", commit ").append(m.getString("gitCommit"));
    b.append("\n\n");
    JsonArray runs = all.getJsonArray("runs");
    for (int i = 0; i < runs.size(); i++) {
      JsonObject r = runs.getJsonObject(i);
      String which = r.getString("target") + " repeat " + r.getInteger("repeat") + (r.containsKey("attempt") ? " attempt " + r.getInteger("attempt") : "");
      if (r.containsKey("error")) b.append("FAILED ").append(which).append(": ").append(r.getString("error")).append('\n');
      else if (r.getBoolean("noisy", false)) b.append("disturbed: ").append(which).append(" (other jobs used up to ")
          .append(r.getDouble("maxOtherCores")).append(" cores)\n");
    }
    if (all.getDouble("quiet", 0.0) > 0) {
      b.append("(runs disturbed by other jobs — more than ").append(all.getDouble("quiet"))
          .append(" cores — are left out of a target's medians when it has undisturbed runs)\n");
    }
    JsonObject summary = all.getJsonObject("summary");
    List<String> targets = new ArrayList<>(summary.fieldNames());
    if (targets.isEmpty()) return b.append("no results\n").toString();
    Set<String> metrics = new LinkedHashSet<>();
    for (String t : targets) metrics.addAll(summary.getJsonObject(t).fieldNames());
    List<String> baselines = targets.stream().filter(t -> !t.startsWith("switchboard")).toList();
    List<String> subjects = targets.stream().filter(t -> t.startsWith("switchboard")).toList();
    List<String> header = new ArrayList<>();
    header.add("metric");
    header.addAll(targets);
    for (String s : subjects) for (String base : baselines) header.add(shortName(s) + "÷" + shortName(base));
    // several Switchboard targets (engines, jars before/after a change): each against the first
    for (int i = 1; i < subjects.size(); i++) header.add(shortName(subjects.get(i)) + "÷" + shortName(subjects.get(0)));
    List<List<String>> rows = new ArrayList<>();
    for (String metric : metrics) {
      List<String> row = new ArrayList<>();
      row.add(metric);
      for (String t : targets) row.add(cell(summary.getJsonObject(t).getJsonObject(metric)));
      for (String s : subjects) {
        for (String base : baselines) {
          double a = median(summary.getJsonObject(s).getJsonObject(metric));
          double c = median(summary.getJsonObject(base).getJsonObject(metric));
          row.add(ratio(a, c));
        }
      }
      for (int i = 1; i < subjects.size(); i++) {
        row.add(ratio(median(summary.getJsonObject(subjects.get(i)).getJsonObject(metric)),
            median(summary.getJsonObject(subjects.get(0)).getJsonObject(metric))));
      }
      rows.add(row);
    }
    b.append(Report.table(header, rows));
    int repeats = 0;
    for (int i = 0; i < runs.size(); i++) repeats = Math.max(repeats, runs.getJsonObject(i).getInteger("repeat"));
    if (repeats > 1) b.append("cells: median [min–max] over the repeats used; ratios are of medians\n");
    return b.toString();
  }

  private static String ratio(double a, double c) {
    return Double.isNaN(a) || Double.isNaN(c) || c == 0 ? "-" : String.format(java.util.Locale.ROOT, "%.2f", a / c);
  }

  static String shortName(String target) {
    if (target.equals("raw-vertx")) return "raw";
    return target.startsWith("switchboard-") ? target.substring("switchboard-".length()) : target;
  }

  private static double median(JsonObject spread) {
    if (spread == null || !spread.containsKey("median")) return Double.NaN;
    return spread.getDouble("median");
  }

  private static String cell(JsonObject spread) {
    if (spread == null || !spread.containsKey("median")) return "-";
    String med = Report.fmt(spread.getDouble("median"));
    if (spread.getInteger("n") < 2 || spread.getDouble("min").equals(spread.getDouble("max"))) return med;
    return med + " [" + Report.fmt(spread.getDouble("min")) + "–" + Report.fmt(spread.getDouble("max")) + "]";
  }
}
