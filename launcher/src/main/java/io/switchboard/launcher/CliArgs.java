package io.switchboard.launcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arguments of one command: positionals, {@code --name value} (or {@code --name=value}) options, which may
 * repeat, and {@code --flag}s. Only the names a command declares are accepted: anything else is a usage error
 * naming it, so a typo never silently changes what a command does.
 */
final class CliArgs {
  final List<String> positional = new ArrayList<>();
  private final Map<String, List<String>> values = new LinkedHashMap<>();
  private final List<String> flags = new ArrayList<>();

  /** A failure the CLI reports as {@code switchboard: <message>} with its exit code. */
  static final class CliError extends RuntimeException {
    final int exitCode;

    CliError(int exitCode, String message) {
      super(message, null, false, false);
      this.exitCode = exitCode;
    }
  }

  static CliError usage(String message) {
    return new CliError(Main.EXIT_USAGE, message);
  }

  /**
   * @param valueOptions option names that take a value, e.g. {@code --config}
   * @param flagOptions option names without a value, e.g. {@code --json}; {@code --help} and {@code -h} always
   */
  static CliArgs parse(List<String> args, Set<String> valueOptions, Set<String> flagOptions) {
    CliArgs a = new CliArgs();
    boolean onlyPositional = false;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (onlyPositional || !arg.startsWith("-") || arg.equals("-")) {
        a.positional.add(arg);
        continue;
      }
      if (arg.equals("--")) {
        onlyPositional = true;
        continue;
      }
      if (arg.equals("-h") || arg.equals("--help")) {
        a.flags.add("--help");
        continue;
      }
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      if (valueOptions.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.size()) throw usage(name + " needs a value");
          value = args.get(++i);
        }
        a.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      } else if (flagOptions.contains(name) && value == null) {
        a.flags.add(name);
      } else {
        throw usage("unknown option '" + arg + "'");
      }
    }
    return a;
  }

  boolean flag(String name) {
    return flags.contains(name);
  }

  /** The last value given for an option, or {@code def}. */
  String value(String name, String def) {
    List<String> v = values.get(name);
    return v == null ? def : v.get(v.size() - 1);
  }

  List<String> values(String name) {
    return values.getOrDefault(name, List.of());
  }

  long longValue(String name, long def, long min, long max) {
    String v = value(name, null);
    if (v == null) return def;
    try {
      long n = Long.parseLong(v.trim());
      if (n < min || n > max) throw usage(name + " must be between " + min + " and " + max + ", got " + v);
      return n;
    } catch (NumberFormatException e) {
      throw usage(name + " must be a whole number, got '" + v + "'");
    }
  }

  /** The positional at {@code i}, or a usage error naming what is missing. */
  String positional(int i, String what) {
    if (i >= positional.size()) throw usage("missing " + what);
    return positional.get(i);
  }

  void atMostPositionals(int n) {
    if (positional.size() > n) throw usage("unexpected argument '" + positional.get(n) + "'");
  }
}
