package io.switchboard.launcher;

import io.switchboard.auth.AuthVerticle;
import io.switchboard.common.Ids;
import io.switchboard.common.PublicationCodec;
import io.switchboard.gateway.GatewayService;
import io.switchboard.presence.PresenceVerticle;
import io.switchboard.store.StoreVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A running Switchboard: one Vert.x instance with the chosen services deployed in dependency order, plus the
 * operations endpoints. {@link Main} uses it; so do the end-to-end tests, which start the real thing in-process.
 */
public final class Switchboard {
  private final Vertx vertx;
  private final JsonObject config;
  private final Set<Service> services;
  private final boolean generatedAdminKey;
  private final boolean clustered;
  private OperationsServer operations;
  /** Cluster mode only: fences this JVM after a pause long enough for the cluster to have dropped it. */
  private ClusterFence fence;

  private Switchboard(Vertx vertx, JsonObject config, Set<Service> services, boolean generatedAdminKey, boolean clustered) {
    this.vertx = vertx;
    this.clustered = clustered;
    this.config = config;
    this.services = services;
    this.generatedAdminKey = generatedAdminKey;
  }

  /** Starts the services of a validated config (see common Config) in one JVM, not clustered. */
  public static Future<Switchboard> start(JsonObject config, Set<Service> services) {
    return start(config, services, false);
  }

  /**
   * Starts the services of a validated config; {@code clustered} joins the Hazelcast cluster described by the
   * {@code cluster} section first.
   *
   * @throws IllegalArgumentException for a combination that cannot work (memory engine in a cluster)
   */
  public static Future<Switchboard> start(JsonObject config, Set<Service> services, boolean clustered) {
    if (clustered) checkClusterable(config, services);
    Logging.configure(config.getJsonObject("logging").getString("format"));
    boolean generated = false;
    if (config.getString("adminKey").isEmpty()) {
      config.put("adminKey", "sba_" + Ids.secret(24));
      generated = true;
    }
    // one metrics registry per Switchboard, so several in one JVM (tests) never share meters
    String registry = "switchboard-" + Ids.hex(8);
    config.getJsonObject("operations").put("registryName", registry);
    boolean generatedKey = generated;
    Future<Vertx> started;
    if (clustered) {
      JsonObject cluster = config.getJsonObject("cluster");
      started = Vertx.builder()
          .with(vertxOptions(registry, config).setEventBusOptions(ClusterSetup.eventBus(cluster)))
          .withMetrics(new HttpServerMeters.Factory())
          .withClusterManager(new HazelcastClusterManager(ClusterSetup.hazelcast(cluster)))
          .buildClustered();
    } else {
      started = Future.succeededFuture(Vertx.builder().with(vertxOptions(registry, config))
          .withMetrics(new HttpServerMeters.Factory()).build());
    }
    return started.compose(vertx -> {
      if (clustered) Logging.node(((io.vertx.core.internal.VertxInternal) vertx).clusterManager().getNodeId());
      PublicationCodec.register(vertx.eventBus());
      io.switchboard.gateway.core.GatewayMetrics.fanoutSent(registry, io.switchboard.common.Fanout.of(vertx));
      Switchboard sb = new Switchboard(vertx, config, services, generatedKey, clustered);
      return sb.deployAll().map(sb).recover(t -> vertx.close().transform(v -> Future.failedFuture(t)));
    });
  }

  /** Refuses a cluster start that cannot work (also run by check-config and before start-up). */
  static void checkClusterable(JsonObject config, Set<Service> services) {
    if (!"redis".equals(config.getString("engine"))) {
      throw new IllegalArgumentException("cluster mode needs the redis engine (engine: redis and redis.url, or "
          + "SWITCHBOARD_ENGINE=redis and SWITCHBOARD_REDIS_URL): the memory engine keeps history, presence and "
          + "revocations inside one JVM, where the other nodes cannot see them");
    }
    if (services.contains(Service.AUTH) && config.getString("adminKey").isEmpty()) {
      throw new IllegalArgumentException("cluster mode needs an admin key (adminKey or SWITCHBOARD_ADMIN_KEY): "
          + "every auth JVM would otherwise generate a different one");
    }
  }

  static VertxOptions vertxOptions(String registryName, JsonObject config) {
    // epoll when it loads (Linux): the fan-out writes one shared frame to many sockets, which NIO can only do through
    // two NIO buffer objects per write (the garbage behind the GC part of the latency tail); NIO otherwise.
    // As many event loops as the gateway has (one per core by default), not Vert.x's two per core: the store,
    // presence and auth verticles then share the gateway's threads, so a publication's bus hops (gateway → store →
    // the node's fan-out consumer) are mostly queue appends on a running thread instead of wake-ups of idle ones
    // that wait for a core (the publish→deliver tail on small machines; docs/benchmarks.md, "Latency tail").
    return new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(eventLoops(config))
        .setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setRegistryName(registryName)
        .setJvmMetricsEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
  }

  /** The event-loop pool: the gateway's event loops ({@code gateway.instances}; 0 = one per core). */
  static int eventLoops(JsonObject config) {
    int cores = Math.max(1, Runtime.getRuntime().availableProcessors());
    JsonObject gateway = config.getJsonObject("gateway");
    int instances = gateway == null ? 0 : gateway.getInteger("instances", 0);
    // never one: a JVM whose every verticle shares a single thread has no slack at all (one slow handler stalls all)
    return Math.max(2, instances > 0 ? instances : cores);
  }

  private Future<?> deployAll() {
    Future<?> chain = Future.succeededFuture();
    for (Service s : Service.values()) {
      if (!services.contains(s)) continue;
      chain = chain.compose(v -> deploy(s));
    }
    if (clustered) {
      fence = new ClusterFence(config.getJsonObject("cluster"));
      chain = chain.compose(v -> vertx.deployVerticle(fence, new DeploymentOptions().setConfig(config)));
    }
    return chain.compose(v -> {
      operations = new OperationsServer(config, services, clustered, fence);
      return vertx.deployVerticle(operations, new DeploymentOptions().setConfig(config));
    });
  }

  private Future<String> deploy(Service s) {
    Supplier<io.vertx.core.Deployable> verticle = switch (s) {
      case STORE -> StoreVerticle::new;
      case PRESENCE -> PresenceVerticle::new;
      case AUTH -> AuthVerticle::new;
      case GATEWAY -> GatewayService::new;
    };
    return vertx.deployVerticle(verticle.get(), new DeploymentOptions().setConfig(config))
        .recover(t -> Future.failedFuture(new IllegalStateException(s.cliName + " service failed to start: " + t.getMessage(), t)));
  }

  public Vertx vertx() {
    return vertx;
  }

  public JsonObject config() {
    return config;
  }

  public String adminKey() {
    return config.getString("adminKey");
  }

  boolean generatedAdminKey() {
    return generatedAdminKey;
  }

  Set<Service> services() {
    return services;
  }

  boolean clustered() {
    return clustered;
  }

  /** Port the operations endpoints listen on (tests configure 0). */
  int operationsPort() {
    return operations.port();
  }

  public Future<Void> close() {
    return vertx.close();
  }
}
