package io.switchboard.launcher;

import io.switchboard.common.Config;
import io.switchboard.common.ConfigException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar switchboard.jar [--config file.yaml|json] [--services gateway,auth,store,presence]}.
 * With no arguments: every service in one JVM on the memory engine, no setup at all.
 */
public final class Main {
  private Main() {}

  static final String USAGE = """
      usage: java -jar switchboard.jar [--config FILE] [--services LIST] [--cluster]
        --config FILE     JSON or YAML configuration (environment SWITCHBOARD_* overrides it)
        --services LIST   comma list of gateway, auth, store, presence (default: all)
        --cluster         join the Hazelcast cluster of the cluster.* settings (needs engine: redis)
        --help            this text""";

  public static void main(String[] args) {
    Path configFile = null;
    String services = null;
    boolean cluster = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--config" -> configFile = Path.of(value(args, ++i, "--config"));
        case "--services" -> services = value(args, ++i, "--services");
        case "--cluster" -> cluster = true;
        case "--help", "-h" -> {
          System.out.println(USAGE);
          return;
        }
        default -> die("unknown argument '" + args[i] + "'\n" + USAGE);
      }
    }
    JsonObject config;
    Set<Service> chosen;
    try {
      config = Config.load(configFile, System.getenv());
      chosen = Service.parse(services);
    } catch (ConfigException | IllegalArgumentException e) {
      die(e.getMessage());
      return;
    }
    Switchboard sb;
    try {
      sb = Switchboard.start(config, chosen, cluster).await(120, TimeUnit.SECONDS);
    } catch (IllegalArgumentException e) {
      die(e.getMessage());
      return;
    } catch (Exception e) {
      die("start-up failed: " + e.getMessage());
      return;
    }
    printBanner(sb);
    // SIGTERM: gateways tell clients to reconnect elsewhere (1001) while undeploying, then Vert.x closes
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        sb.close().await(20, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
    }, "switchboard-shutdown"));
  }

  private static void printBanner(Switchboard sb) {
    JsonObject c = sb.config();
    StringBuilder b = new StringBuilder();
    b.append("Switchboard started: engine ").append(c.getString("engine")).append(", services ").append(sb.services())
        .append(sb.clustered() ? ", clustered as " + c.getJsonObject("cluster").getString("name") : "").append('\n');
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
    if (sb.generatedAdminKey()) {
      b.append("  Admin key   ").append(sb.adminKey())
          .append("   (generated; shown once — set SWITCHBOARD_ADMIN_KEY to choose your own)\n");
    }
    System.out.print(b);
    System.out.flush();
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) die(flag + " needs a value\n" + USAGE);
    return args[i];
  }

  private static void die(String message) {
    System.err.println("switchboard: " + message);
    System.exit(2);
  }
}
