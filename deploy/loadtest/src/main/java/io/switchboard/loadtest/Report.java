package io.switchboard.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/** Number formatting and small statistics shared by the scenarios and the summaries. */
final class Report {
  private Report() {}

  static double round(double v, int digits) {
    if (Double.isNaN(v) || Double.isInfinite(v)) return v;
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }

  /** Percentiles of a microsecond histogram, in milliseconds. */
  static JsonObject percentiles(Histogram h) {
    JsonObject p = new JsonObject().put("count", h.getTotalCount());
    if (h.getTotalCount() == 0) return p;
    return p.put("p50", ms(h.getValueAtPercentile(50))).put("p90", ms(h.getValueAtPercentile(90)))
        .put("p99", ms(h.getValueAtPercentile(99))).put("p999", ms(h.getValueAtPercentile(99.9)))
        .put("max", ms(h.getMaxValue())).put("mean", round(h.getMean() / 1000.0, 3));
  }

  static double ms(long micros) {
    return round(micros / 1000.0, 3);
  }

  /** Median, min and max of some values. */
  static JsonObject spread(List<Double> values) {
    List<Double> v = new ArrayList<>(values);
    v.removeIf(x -> x == null || x.isNaN());
    if (v.isEmpty()) return new JsonObject();
    Collections.sort(v);
    double median = v.size() % 2 == 1 ? v.get(v.size() / 2) : (v.get(v.size() / 2 - 1) + v.get(v.size() / 2)) / 2;
    return new JsonObject().put("median", round(median, 4)).put("min", round(v.get(0), 4))
        .put("max", round(v.get(v.size() - 1), 4)).put("n", v.size()).put("values", new JsonArray(new ArrayList<>(values)));
  }

  static String fmt(double v) {
    if (Double.isNaN(v)) return "-";
    double a = Math.abs(v);
    if (a >= 100_000) return String.format(Locale.ROOT, "%,.0f", v);
    if (a >= 100) return String.format(Locale.ROOT, "%,.0f", v);
    if (a >= 10) return String.format(Locale.ROOT, "%.1f", v);
    if (a >= 1) return String.format(Locale.ROOT, "%.2f", v);
    return String.format(Locale.ROOT, "%.3f", v);
  }

  static String bytes(double b) {
    if (Double.isNaN(b)) return "-";
    if (Math.abs(b) >= 1024 * 1024) return String.format(Locale.ROOT, "%.1f MB", b / 1024 / 1024);
    if (Math.abs(b) >= 1024) return String.format(Locale.ROOT, "%.2f KB", b / 1024);
    return String.format(Locale.ROOT, "%.0f B", b);
  }

  /** A text table with aligned columns. */
  static String table(List<String> header, List<List<String>> rows) {
    int[] w = new int[header.size()];
    for (int i = 0; i < w.length; i++) w[i] = header.get(i).length();
    for (List<String> r : rows) for (int i = 0; i < r.size() && i < w.length; i++) w[i] = Math.max(w[i], r.get(i).length());
    StringBuilder b = new StringBuilder();
    line(b, header, w);
    StringBuilder sep = new StringBuilder();
    for (int i = 0; i < w.length; i++) sep.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
    b.append(sep).append('\n');
    for (List<String> r : rows) line(b, r, w);
    return b.toString();
  }

  private static void line(StringBuilder b, List<String> cells, int[] w) {
    for (int i = 0; i < w.length; i++) {
      String c = i < cells.size() ? cells.get(i) : "";
      if (i > 0) b.append("  ");
      b.append(i == 0 ? c + " ".repeat(w[i] - c.length()) : " ".repeat(w[i] - c.length()) + c);
    }
    b.append('\n');
  }
}
