package io.switchboard.loadtest;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * PNG charts drawn with java.awt (headless, no extra dependency): latency percentiles over time, latency and
 * server CPU versus delivered rate, and grouped bars. Small files, readable at a glance.
 */
final class Plot {
  private Plot() {}

  static {
    System.setProperty("java.awt.headless", "true");
  }

  static final Color[] PERCENTILE_COLORS = {new Color(0x2ca02c), new Color(0x1f77b4), new Color(0xff7f0e), new Color(0xd62728), new Color(0x7f7f7f)};
  static final String[] PERCENTILES = {"p50", "p90", "p99", "p999", "max"};
  static final String[] PERCENTILE_NAMES = {"p50", "p90", "p99", "p99.9", "max"};

  static Color colorOf(String target) {
    if (target.startsWith("switchboard-memory")) return new Color(0x1f77b4);
    if (target.startsWith("switchboard-redis")) return new Color(0x9467bd);
    if (target.startsWith("switchboard")) return new Color(0x2ca02c);
    if (target.startsWith("raw")) return new Color(0x555555);
    if (target.startsWith("socketio")) return new Color(0xff7f0e);
    return Color.BLACK;
  }

  /** One panel of a latency-over-time chart: per-second percentiles (ms), with labelled step starts. */
  record TimePanel(String label, List<double[]> seconds, List<Integer> stepStarts, List<String> stepLabels) {}

  /** A line of a sweep chart: points (delivered/s, p99 ms, server cores). */
  record SweepLine(String label, List<double[]> points) {}

  private static final int W = 1000;
  private static final int LEFT = 80;
  private static final int RIGHT = 30;

  static void latencyOverTime(Path file, String title, List<TimePanel> panels) throws IOException {
    int panelH = 230;
    int top = 50;
    int h = top + panels.size() * (panelH + 40) + 30;
    BufferedImage img = new BufferedImage(W, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = start(img, title);
    double lo = Double.MAX_VALUE;
    double hi = 0;
    int maxSeconds = 1;
    for (TimePanel p : panels) {
      maxSeconds = Math.max(maxSeconds, p.seconds().size());
      for (double[] s : p.seconds()) for (double v : s) if (v > 0) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (hi == 0) {
      lo = 0.1;
      hi = 1;
    }
    double yMin = Math.pow(10, Math.floor(Math.log10(Math.max(lo, 0.01))));
    double yMax = Math.pow(10, Math.ceil(Math.log10(hi * 1.01)));
    for (int i = 0; i < panels.size(); i++) {
      TimePanel p = panels.get(i);
      int y0 = top + i * (panelH + 40) + 20;
      Axes a = new Axes(LEFT, y0, W - LEFT - RIGHT, panelH, 0, maxSeconds, yMin, yMax, true);
      a.frame(g, "seconds of measured window", "latency ms (log)");
      g.setFont(g.getFont().deriveFont(Font.BOLD, 13f));
      g.setColor(colorOf(p.label()));
      g.drawString(p.label(), LEFT + 8, y0 - 6);
      g.setFont(g.getFont().deriveFont(Font.PLAIN, 11f));
      g.setColor(new Color(0x999999));
      for (int s = 0; s < p.stepStarts().size(); s++) {
        int x = a.x(p.stepStarts().get(s));
        dashed(g, x, y0, x, y0 + panelH);
        g.drawString(p.stepLabels().get(s), x + 3, y0 + 12);
      }
      for (int k = 0; k < PERCENTILES.length; k++) {
        g.setColor(PERCENTILE_COLORS[k]);
        g.setStroke(new BasicStroke(k == 4 ? 1f : 1.8f));
        int px = -1;
        int py = -1;
        for (int s = 0; s < p.seconds().size(); s++) {
          double v = p.seconds().get(s)[k];
          if (!(v > 0)) {
            px = -1;
            continue;
          }
          int x = a.x(s + 0.5);
          int y = a.y(v);
          if (px >= 0) g.drawLine(px, py, x, y);
          else g.fillOval(x - 2, y - 2, 4, 4);
          px = x;
          py = y;
        }
      }
      g.setStroke(new BasicStroke(1f));
      legend(g, W - RIGHT - 330, y0 - 8, PERCENTILE_NAMES, PERCENTILE_COLORS);
    }
    finish(g, img, file);
  }

  static void sweep(Path file, String title, List<SweepLine> lines) throws IOException {
    int h = 470;
    BufferedImage img = new BufferedImage(W, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = start(img, title);
    double xMax = 1;
    double lo = Double.MAX_VALUE;
    double hi = 0;
    double cMax = 0.1;
    for (SweepLine l : lines) for (double[] p : l.points()) {
      xMax = Math.max(xMax, p[0]);
      if (p[1] > 0) {
        lo = Math.min(lo, p[1]);
        hi = Math.max(hi, p[1]);
      }
      cMax = Math.max(cMax, p[2]);
    }
    if (hi == 0) {
      lo = 0.1;
      hi = 1;
    }
    double yMin = Math.pow(10, Math.floor(Math.log10(Math.max(lo, 0.01))));
    double yMax = Math.pow(10, Math.ceil(Math.log10(hi * 1.01)));
    int pw = (W - LEFT - RIGHT - 90) / 2;
    Axes left = new Axes(LEFT, 70, pw, 320, 0, xMax * 1.05, yMin, yMax, true);
    Axes right = new Axes(LEFT + pw + 90, 70, pw, 320, 0, xMax * 1.05, 0, Math.ceil(cMax * 1.15 * 4) / 4, false);
    left.frame(g, "delivered messages/s", "publish→deliver p99 ms (log)");
    right.frame(g, "delivered messages/s", "server CPU cores");
    for (SweepLine l : lines) {
      g.setColor(colorOf(l.label()));
      g.setStroke(new BasicStroke(2f));
      plotLine(g, left, l.points(), 1);
      plotLine(g, right, l.points(), 2);
    }
    g.setStroke(new BasicStroke(1f));
    String[] names = lines.stream().map(SweepLine::label).distinct().toArray(String[]::new);
    Color[] colors = new Color[names.length];
    for (int i = 0; i < names.length; i++) colors[i] = colorOf(names[i]);
    legend(g, LEFT, h - 28, names, colors);
    finish(g, img, file);
  }

  private static void plotLine(Graphics2D g, Axes a, List<double[]> points, int k) {
    int px = -1;
    int py = -1;
    for (double[] p : points) {
      if (!(p[k] > 0) && a.log) continue;
      int x = a.x(p[0]);
      int y = a.y(p[k]);
      g.fillOval(x - 3, y - 3, 7, 7);
      if (px >= 0) g.drawLine(px, py, x, y);
      px = x;
      py = y;
    }
  }

  /**
   * Grouped bars: one group per metric, one bar per target (value printed on top). {@code values[metric][target]};
   * NaN leaves a gap.
   */
  static void bars(Path file, String title, List<String> metrics, List<String> targets, double[][] values, List<String> units) throws IOException {
    int panelH = 220;
    int h = 60 + metrics.size() * (panelH + 50) + 20;
    BufferedImage img = new BufferedImage(W, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = start(img, title);
    for (int m = 0; m < metrics.size(); m++) {
      int y0 = 80 + m * (panelH + 50);
      double max = 0;
      for (double v : values[m]) if (!Double.isNaN(v)) max = Math.max(max, v);
      Axes a = new Axes(LEFT, y0, W - LEFT - RIGHT, panelH, 0, targets.size(), 0, max <= 0 ? 1 : max * 1.2, false);
      a.frame(g, null, units.get(m));
      g.setColor(Color.BLACK);
      g.setFont(g.getFont().deriveFont(Font.BOLD, 13f));
      g.drawString(metrics.get(m), LEFT, y0 - 8);
      g.setFont(g.getFont().deriveFont(Font.PLAIN, 12f));
      for (int t = 0; t < targets.size(); t++) {
        double v = values[m][t];
        int x0 = a.x(t + 0.2);
        int x1 = a.x(t + 0.8);
        FontMetrics fm = g.getFontMetrics();
        g.setColor(Color.DARK_GRAY);
        String name = targets.get(t);
        g.drawString(name, (x0 + x1 - fm.stringWidth(name)) / 2, y0 + panelH + 16);
        if (Double.isNaN(v)) continue;
        int y = a.y(v);
        g.setColor(colorOf(name));
        g.fillRect(x0, y, x1 - x0, y0 + panelH - y);
        g.setColor(Color.BLACK);
        String label = Report.fmt(v);
        g.drawString(label, (x0 + x1 - fm.stringWidth(label)) / 2, y - 4);
      }
    }
    finish(g, img, file);
  }

  // --- drawing helpers ----------------------------------------------------------------------------

  private static Graphics2D start(BufferedImage img, String title) {
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, LEFT, 26);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    return g;
  }

  private static void finish(Graphics2D g, BufferedImage img, Path file) throws IOException {
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  private static void legend(Graphics2D g, int x, int y, String[] names, Color[] colors) {
    g.setFont(g.getFont().deriveFont(Font.PLAIN, 12f));
    FontMetrics fm = g.getFontMetrics();
    for (int i = 0; i < names.length; i++) {
      g.setColor(colors[i]);
      g.fillRect(x, y - 9, 14, 9);
      g.setColor(Color.BLACK);
      g.drawString(names[i], x + 18, y);
      x += 18 + fm.stringWidth(names[i]) + 16;
    }
  }

  private static void dashed(Graphics2D g, int x0, int y0, int x1, int y1) {
    Stroke s = g.getStroke();
    g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
    g.drawLine(x0, y0, x1, y1);
    g.setStroke(s);
  }

  /** A plotting area with linear x and linear or log-10 y. */
  private static final class Axes {
    final int left;
    final int top;
    final int width;
    final int height;
    final double x0;
    final double x1;
    final double y0;
    final double y1;
    final boolean log;

    Axes(int left, int top, int width, int height, double x0, double x1, double y0, double y1, boolean log) {
      this.left = left;
      this.top = top;
      this.width = width;
      this.height = height;
      this.x0 = x0;
      this.x1 = x1;
      this.y0 = y0;
      this.y1 = y1 <= y0 ? y0 + 1 : y1;
      this.log = log;
    }

    int x(double v) {
      return left + (int) Math.round((v - x0) / (x1 - x0) * width);
    }

    int y(double v) {
      double f = log ? (Math.log10(Math.max(v, y0)) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (v - y0) / (y1 - y0);
      f = Math.max(0, Math.min(1, f));
      return top + height - (int) Math.round(f * height);
    }

    void frame(Graphics2D g, String xLabel, String yLabel) {
      g.setFont(g.getFont().deriveFont(Font.PLAIN, 11f));
      FontMetrics fm = g.getFontMetrics();
      List<Double> yTicks = new ArrayList<>();
      if (log) {
        for (double v = y0; v <= y1 * 1.0001; v *= 10) yTicks.add(v);
      } else {
        double step = niceStep((y1 - y0) / 5);
        for (double v = y0; v <= y1 + 1e-9; v += step) yTicks.add(v);
      }
      for (double v : yTicks) {
        int y = y(v);
        g.setColor(new Color(0xe6e6e6));
        g.drawLine(left, y, left + width, y);
        g.setColor(Color.DARK_GRAY);
        String s = tick(v);
        g.drawString(s, left - 6 - fm.stringWidth(s), y + 4);
      }
      if (xLabel != null) {
        double step = niceStep((x1 - x0) / 8);
        for (double v = x0; v <= x1 + 1e-9; v += step) {
          int x = x(v);
          g.setColor(new Color(0xf0f0f0));
          g.drawLine(x, top, x, top + height);
          g.setColor(Color.DARK_GRAY);
          String s = tick(v);
          g.drawString(s, x - fm.stringWidth(s) / 2, top + height + 14);
        }
        g.drawString(xLabel, left + width / 2 - fm.stringWidth(xLabel) / 2, top + height + 28);
      }
      g.setColor(Color.GRAY);
      g.drawRect(left, top, width, height);
      Graphics2D r = (Graphics2D) g.create();
      r.rotate(-Math.PI / 2);
      r.setColor(Color.DARK_GRAY);
      r.drawString(yLabel, -(top + height / 2 + fm.stringWidth(yLabel) / 2), left - 52);
      r.dispose();
    }

    private static double niceStep(double raw) {
      if (raw <= 0) return 1;
      double p = Math.pow(10, Math.floor(Math.log10(raw)));
      double f = raw / p;
      return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
    }

    private static String tick(double v) {
      double a = Math.abs(v);
      if (a >= 1_000_000) return String.format(Locale.ROOT, "%.1fM", v / 1e6).replace(".0M", "M");
      if (a >= 10_000) return String.format(Locale.ROOT, "%.0fk", v / 1e3);
      if (a >= 1) return String.format(Locale.ROOT, a == Math.rint(a) ? "%.0f" : "%.1f", v);
      if (a == 0) return "0";
      return String.format(Locale.ROOT, "%s", Double.toString(v).replaceAll("0+$", ""));
    }
  }

  /** Per-second percentile arrays from the JSON of a step. */
  static List<double[]> seconds(io.vertx.core.json.JsonArray perSecond) {
    List<double[]> out = new ArrayList<>();
    for (int i = 0; i < perSecond.size(); i++) {
      io.vertx.core.json.JsonObject s = perSecond.getJsonObject(i);
      double[] v = new double[PERCENTILES.length];
      for (int k = 0; k < PERCENTILES.length; k++) v[k] = s.getDouble(PERCENTILES[k], Double.NaN);
      out.add(v);
    }
    return out;
  }
}
