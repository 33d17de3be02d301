package io.switchboard.loadtest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line knobs: {@code --name value}, {@code --flag}, repeatable. Every read names its knob; an unknown knob
 * is an error (a typo must never silently run the default).
 */
final class Options {
  private final Map<String, List<String>> values = new LinkedHashMap<>();
  final List<String> positional = new ArrayList<>();

  static final Set<String> FLAGS = Set.of("presence", "no-histogram", "keep-going", "help", "one-services-jvm", "no-fanout", "per-client-tokens");

  Options(String[] args, int from) {
    for (int i = from; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        positional.add(a);
        continue;
      }
      String name = a.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq > 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (FLAGS.contains(name) || i + 1 >= args.length || args[i + 1].startsWith("--")) {
        value = "true";
      } else {
        value = args[++i];
      }
      values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }
  }

  /** Fails on any knob not in {@code known}. */
  void allowOnly(Set<String> known, String command) {
    for (String k : values.keySet()) {
      if (!known.contains(k)) {
        throw new IllegalArgumentException("unknown option --" + k + " for " + command + " (known: --" + String.join(", --", known.stream().sorted().toList()) + ")");
      }
    }
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  String string(String name, String def) {
    List<String> v = values.get(name);
    return v == null ? def : v.get(v.size() - 1);
  }

  List<String> list(String name) {
    return values.getOrDefault(name, List.of());
  }

  /** A value split on whitespace (JVM options). */
  List<String> words(String name) {
    String v = string(name, "").trim();
    return v.isEmpty() ? new ArrayList<>() : new ArrayList<>(List.of(v.split("\\s+")));
  }

  int integer(String name, int def) {
    String v = string(name, null);
    if (v == null) return def;
    try {
      return Integer.parseInt(v.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number, got '" + v + "'");
    }
  }

  long longValue(String name, long def) {
    String v = string(name, null);
    if (v == null) return def;
    try {
      return Long.parseLong(v.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number, got '" + v + "'");
    }
  }

  double number(String name, double def) {
    String v = string(name, null);
    if (v == null) return def;
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a number, got '" + v + "'");
    }
  }

  /** A comma-separated list of numbers, e.g. {@code --rate 100,200,400}. */
  List<Double> numbers(String name, String def) {
    String v = string(name, def);
    List<Double> out = new ArrayList<>();
    for (String p : v.split(",")) {
      if (p.isBlank()) continue;
      try {
        out.add(Double.parseDouble(p.trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--" + name + " must be numbers separated by commas, got '" + v + "'");
      }
    }
    if (out.isEmpty()) throw new IllegalArgumentException("--" + name + " needs at least one value");
    return out;
  }

  List<String> names(String name, String def) {
    List<String> out = new ArrayList<>();
    for (String p : string(name, def).split(",")) if (!p.isBlank()) out.add(p.trim());
    return out;
  }

  boolean flag(String name) {
    String v = string(name, "false");
    return v.equals("true") || v.equals("yes") || v.equals("on");
  }

  Path path(String name, Path def) {
    String v = string(name, null);
    return v == null ? def : Path.of(v).toAbsolutePath();
  }

  /** A bound: a value from 1 to {@code max}, naming the knob when outside. */
  int bounded(String name, int def, int min, int max) {
    int v = integer(name, def);
    if (v < min || v > max) throw new IllegalArgumentException("--" + name + " must be between " + min + " and " + max + ", got " + v);
    return v;
  }

  /** The generator targets this machine only. */
  static void requireLoopback(String host, String what) {
    if (host == null || !(host.equals("localhost") || host.startsWith("127."))) {
      throw new IllegalArgumentException(what + " must be a loopback address (127.x or localhost), got '" + host + "'");
    }
  }
}
