package io.switchboard.launcher;

import io.switchboard.common.Config;
import io.switchboard.common.ConfigException;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar switchboard.jar [command] [options]}: the server ({@code serve}, also what runs with no command
 * or with only options, as before there were commands) and the operator's commands. With no arguments: every
 * service in one JVM on the memory engine, no setup at all.
 */
public final class Main {
  private Main() {}

  static final int EXIT_OK = 0;
  /** The server answered with an error (permission_denied, not_found …). */
  static final int EXIT_FAILED = 1;
  /** Bad arguments or bad configuration: nothing was done. */
  static final int EXIT_USAGE = 2;
  /** The server could not be reached (connection refused, timeout, unavailable). */
  static final int EXIT_UNREACHABLE = 3;
  /** {@link #run} started the server: the JVM keeps running. */
  static final int RUNNING = -1;

  static final String HELP = """
      usage: switchboard [command] [options]     (java -jar switchboard.jar …)

      server
        serve          run the services (the default when no command is given)
        check-config   validate the configuration as start-up does; exit 0, or 2 with the message
        genconfig      write a complete, commented configuration file with every default

      operator commands (talk to a running server; see `switchboard <command> --help`)
        token          mint a token for a subject with grants
        key            create or delete an API key
        revoke         revoke a subject or a token: its connections close with 4003
        publish        publish to a channel
        history        read a channel's history, with filters
        tail           print a channel's publications live, recovering across reconnects
        presence       list who is present in a channel

      exit codes: 0 ok, 1 the server refused (the error is printed), 2 bad arguments or configuration,
                  3 the server could not be reached""";

  static final String SERVE_USAGE = """
      usage: switchboard serve [--config FILE] [--services LIST] [--cluster] [--check-config]
             (serve is the default: `java -jar switchboard.jar --config FILE` is the same)
        --config FILE     JSON or YAML configuration (environment SWITCHBOARD_* overrides it)
        --services LIST   comma list of gateway, auth, store, presence (default: all)
        --cluster         join the Hazelcast cluster of the cluster.* settings (needs engine: redis)
        --check-config    only validate the configuration (as `switchboard check-config`) and exit
        --help            this text""";

  public static void main(String[] args) {
    int code = run(args, System.out, System.err, System.getenv());
    if (code != RUNNING) {
      System.out.flush();
      System.exit(code);
    }
  }

  /** Runs one command; returns its exit code, or {@link #RUNNING} when the server was started. */
  static int run(String[] argv, PrintStream out, PrintStream err, Map<String, String> env) {
    List<String> args = Arrays.asList(argv);
    String command = args.isEmpty() || args.get(0).startsWith("-") ? "serve" : args.get(0);
    List<String> rest = args.isEmpty() || args.get(0).startsWith("-") ? args : args.subList(1, args.size());
    try {
      return switch (command) {
        case "serve" -> serve(rest, out, err, env, args.isEmpty() || args.get(0).startsWith("-"));
        case "help" -> help(rest, out, err, env);
        case "genconfig" -> ConfigCommands.genconfig(rest, out);
        case "check-config" -> ConfigCommands.checkConfig(rest, out, err, env);
        case "token", "key", "revoke", "publish", "history", "tail", "presence" ->
            new ClientCommands(out, err, env).run(command, rest);
        default -> throw CliArgs.usage("unknown command '" + command + "' (switchboard --help lists them)");
      };
    } catch (CliArgs.CliError e) {
      err.println("switchboard: " + e.getMessage());
      if (e.exitCode == EXIT_USAGE && !command.equals("check-config") && !command.equals("serve")) {
        err.println("(switchboard " + command + " --help shows the usage)");
      }
      return e.exitCode;
    } catch (RuntimeException e) {
      err.println("switchboard: " + command + " failed unexpectedly: " + e);
      return EXIT_FAILED;
    }
  }

  private static int help(List<String> rest, PrintStream out, PrintStream err, Map<String, String> env) {
    if (rest.isEmpty()) {
      out.println(HELP);
      return EXIT_OK;
    }
    String[] again = {rest.get(0), "--help"};
    return run(again, out, err, env);
  }

  private static int serve(List<String> rest, PrintStream out, PrintStream err, Map<String, String> env, boolean bare) {
    if (rest.contains("--check-config")) {
      return ConfigCommands.checkConfig(rest.stream().filter(s -> !s.equals("--check-config")).toList(), out, err, env);
    }
    CliArgs a = CliArgs.parse(rest, Set.of("--config", "--services"), Set.of("--cluster"));
    if (a.flag("--help")) {
      // bare --help (no command) shows every command; `serve --help` the server's options
      out.println(bare ? HELP + "\n\n" + SERVE_USAGE : SERVE_USAGE);
      return EXIT_OK;
    }
    a.atMostPositionals(0);
    Path configFile = a.value("--config", null) == null ? null : Path.of(a.value("--config", null));
    boolean cluster = a.flag("--cluster");
    JsonObject config;
    Set<Service> chosen;
    try {
      config = Config.load(configFile, env);
      chosen = Service.parse(a.value("--services", null));
      if (cluster) Switchboard.checkClusterable(config, chosen);
    } catch (ConfigException | IllegalArgumentException e) {
      throw CliArgs.usage(e.getMessage());
    }
    Switchboard sb;
    try {
      sb = Switchboard.start(config, chosen, cluster).await(120, TimeUnit.SECONDS);
    } catch (IllegalArgumentException e) {
      throw CliArgs.usage(e.getMessage());
    } catch (Exception e) {
      throw CliArgs.usage("start-up failed: " + e.getMessage());
    }
    printBanner(sb, out);
    // SIGTERM: gateways tell clients to reconnect elsewhere (4504) while undeploying, then Vert.x closes
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        sb.close().await(20, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
    }, "switchboard-shutdown"));
    return RUNNING;
  }

  private static void printBanner(Switchboard sb, PrintStream out) {
    JsonObject c = sb.config();
    StringBuilder b = new StringBuilder();
    b.append("Switchboard started: engine ").append(c.getString("engine")).append(", services ").append(sb.services())
        .append(sb.clustered() ? ", clustered as " + c.getJsonObject("cluster").getString("name") : "")
        .append(sb.vertx().isNativeTransportEnabled() ? ", transport epoll" : ", transport nio").append('\n');
    if (sb.services().contains(Service.GATEWAY)) {
      b.append("  WebSocket   ws://").append(c.getJsonObject("gateway").getString("host")).append(':')
          .append(c.getJsonObject("gateway").getInteger("port")).append("/ws\n");
    }
    if (sb.services().contains(Service.AUTH)) {
      b.append("  Auth API    http://").append(c.getJsonObject("auth").getString("host")).append(':')
          .append(c.getJsonObject("auth").getInteger("port")).append("/v1/tokens\n");
    }
    b.append("  Operations  http://").append(c.getJsonObject("operations").getString("host")).append(':')
        .append(c.getJsonObject("operations").getInteger("port")).append("/metrics /health/live /health/ready\n");
    b.append("  Dashboard   http://").append(c.getJsonObject("operations").getString("host")).append(':')
        .append(c.getJsonObject("operations").getInteger("port")).append("/admin/ (log in with the admin key)\n");
    if (sb.generatedAdminKey()) {
      b.append("  Admin key   ").append(sb.adminKey())
          .append("   (generated; shown once — set SWITCHBOARD_ADMIN_KEY to choose your own)\n");
    }
    out.print(b);
    out.flush();
  }
}
