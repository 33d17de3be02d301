package io.switchboard.launcher;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.spi.cluster.hazelcast.ClusterHealthCheck;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Operations endpoints of every JVM: {@code /health/live}, {@code /health/ready} (the event bus answers, and Redis
 * when the engine is redis), {@code /metrics} in Prometheus format, and the admin dashboard at {@code /admin} when
 * this JVM knows the admin key.
 *
 * <p>Every JVM answers {@code switchboard.admin.node.<node id>} on the bus with its own state, so the dashboard of
 * any node shows the whole cluster.
 */
final class OperationsServer extends VerticleBase {
  static final String NODE_ADDRESS = "switchboard.admin.node.";
  static final String SERIES_ADDRESS = "switchboard.admin.series.";
  /** The dashboard's charts: one sample of this JVM's counters every SAMPLE_MS, kept for SERIES_MS. */
  static final long SAMPLE_MS = 2000;
  static final long SERIES_MS = 15 * 60 * 1000;
  private final java.util.ArrayDeque<JsonObject> samples = new java.util.ArrayDeque<>();
  private final JsonObject config;
  private final Set<Service> services;
  private RedisConnector redis;
  private int port;
  private String nodeId;

  private final boolean clustered;

  /** Null when not clustered. */
  private final ClusterFence fence;

  OperationsServer(JsonObject config, Set<Service> services, boolean clustered, ClusterFence fence) {
    this.config = config;
    this.services = services;
    this.clustered = clustered;
    this.fence = fence;
  }

  @Override
  public Future<?> start() {
    ClusterManager cm = ((VertxInternal) vertx).clusterManager();
    nodeId = cm != null ? cm.getNodeId() : "local";
    HealthChecks ready = HealthChecks.create(vertx);
    ready.register("eventbus", 2000, p -> p.complete(Status.OK(new JsonObject().put("services", services.toString()))));
    if (clustered) ready.register("cluster", 2000, ClusterHealthCheck.createProcedure(vertx));
    HealthChecks live = HealthChecks.create(vertx);
    if (fence != null) {
      ready.register("fence", 2000, p -> p.complete(fence.fencedForMs() < 0 ? Status.OK()
          : Status.KO(new JsonObject().put("fencedForMs", fence.fencedForMs())
              .put("why", "paused long enough to have been dropped by the cluster; waiting until the cluster routes to this JVM again"))));
      live.register("fence", 2000, p -> p.complete(!fence.stuck() ? Status.OK()
          : Status.KO(new JsonObject().put("fencedForMs", fence.fencedForMs()).put("why", "fenced past cluster.fenceMaxMs: restart"))));
    }
    if ("redis".equals(config.getString("engine"))) {
      redis = RedisConnector.create(vertx, config.getJsonObject("redis"));
      ready.register("redis", 2000, p -> redis.ping()
          .onSuccess(v -> p.complete(Status.OK()))
          .onFailure(t -> p.complete(Status.KO(new JsonObject().put("error", t.getMessage())))));
    }
    Router router = Router.router(vertx);
    router.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(live));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(ready));
    router.get("/metrics").handler(PrometheusScrapingHandler.create(config.getJsonObject("operations").getString("registryName")));
    String adminKey = config.getString("adminKey");
    if (!adminKey.isEmpty()) {
      new AdminConsole(adminKey, vertx, io.switchboard.common.Fanout.of(vertx), config.getJsonObject("gateway").getInteger("port"), this::cluster,
          this::clusterSeries).mount(router);
    }
    JsonObject ops = config.getJsonObject("operations");
    sample();
    vertx.setPeriodic(SAMPLE_MS, t -> sample());
    return Future.all(
            vertx.eventBus().<JsonObject>consumer(NODE_ADDRESS + nodeId, m -> nodeInfo().onSuccess(m::reply)).completion(),
            vertx.eventBus().<JsonObject>consumer(SERIES_ADDRESS + nodeId, m -> m.reply(series())).completion())
        .compose(v -> vertx.createHttpServer().requestHandler(io.switchboard.common.AccessLog.wrap(config, "operations", router)).listen(ops.getInteger("port"), ops.getString("host")))
        .onSuccess(s -> port = s.actualPort());
  }

  /** Every node's state: this JVM's directly, the others' over the bus (a node that does not answer is listed so). */
  Future<JsonObject> cluster() {
    ClusterManager cm = ((VertxInternal) vertx).clusterManager();
    List<String> nodes = cm == null ? List.of(nodeId) : new ArrayList<>(cm.getNodes());
    List<Future<JsonObject>> answers = new ArrayList<>();
    for (String id : nodes) {
      answers.add(id.equals(nodeId) ? nodeInfo()
          : vertx.eventBus().<JsonObject>request(NODE_ADDRESS + id, new JsonObject(), new DeliveryOptions().setSendTimeout(2000))
              .map(m -> m.body())
              .otherwise(t -> new JsonObject().put("node", id).put("reachable", false).put("error", t.getMessage())));
    }
    return Future.join(answers).map(all -> {
      JsonArray list = new JsonArray();
      for (Future<JsonObject> f : answers) list.add(f.result());
      return new JsonObject().put("clustered", cm != null).put("clusterName", cm == null ? null : config.getJsonObject("cluster").getString("name"))
          .put("self", nodeId).put("nodes", list);
    });
  }

  /** Every node's samples of the last {@link #SERIES_MS} (the dashboard sums them and derives rates). */
  Future<JsonObject> clusterSeries() {
    ClusterManager cm = ((VertxInternal) vertx).clusterManager();
    List<String> nodes = cm == null ? List.of(nodeId) : new ArrayList<>(cm.getNodes());
    List<Future<JsonObject>> answers = new ArrayList<>();
    for (String id : nodes) {
      answers.add(id.equals(nodeId) ? Future.succeededFuture(series())
          : vertx.eventBus().<JsonObject>request(SERIES_ADDRESS + id, new JsonObject(), new DeliveryOptions().setSendTimeout(2000))
              .map(m -> m.body())
              .otherwise(t -> new JsonObject().put("node", id).put("samples", new JsonArray())));
    }
    return Future.join(answers).map(all -> {
      JsonArray list = new JsonArray();
      for (Future<JsonObject> f : answers) list.add(f.result());
      return new JsonObject().put("sampleMs", SAMPLE_MS).put("nodes", list);
    });
  }

  private JsonObject series() {
    return new JsonObject().put("node", nodeId).put("samples", new JsonArray(new ArrayList<>(samples)));
  }

  /**
   * One sample: cumulative counters as they are (rates are differences, so a missed sample loses nothing) and the
   * connections gauge. On this verticle's event loop, like {@link #series()}: the deque needs no lock.
   */
  private void sample() {
    long now = System.currentTimeMillis();
    JsonObject s = new JsonObject().put("t", now);
    MeterRegistry registry = BackendRegistries.getNow(config.getJsonObject("operations").getString("registryName"));
    if (registry != null) {
      s.put("connections", gauge(registry, "switchboard_node_num_clients"));
      s.put("subscriptions", gauge(registry, "switchboard_node_num_subscriptions"));
      s.put("publishes", count(registry, "switchboard_publishes"));
      s.put("deliveries", count(registry, "switchboard_messages_sent"));
      JsonObject disconnects = new JsonObject();
      long slow = 0;
      for (Counter c : registry.find("switchboard_server_disconnects").counters()) {
        String code = c.getId().getTag("code");
        disconnects.put(code, disconnects.getLong(code, 0L) + (long) c.count());
        if ("slow_consumer".equals(c.getId().getTag("reason"))) slow += (long) c.count();
      }
      s.put("disconnects", disconnects).put("slowConsumerCuts", slow);
    }
    Runtime rt = Runtime.getRuntime();
    s.put("heapUsed", rt.totalMemory() - rt.freeMemory());
    samples.addLast(s);
    while (!samples.isEmpty() && samples.peekFirst().getLong("t") < now - SERIES_MS) samples.removeFirst();
  }

  /** This JVM: roles, uptime, heap, clients, bus and Redis status. */
  Future<JsonObject> nodeInfo() {
    Runtime rt = Runtime.getRuntime();
    long startedAt = ManagementFactory.getRuntimeMXBean().getStartTime();
    JsonObject info = new JsonObject()
        .put("node", nodeId)
        .put("reachable", true)
        .put("host", hostName())
        .put("services", new JsonArray(services.stream().map(s -> s.cliName).toList()))
        .put("engine", config.getString("engine"))
        .put("startedAt", Instant.ofEpochMilli(startedAt).toString())
        .put("uptimeSeconds", (System.currentTimeMillis() - startedAt) / 1000)
        .put("heap", new JsonObject().put("usedBytes", rt.totalMemory() - rt.freeMemory()).put("maxBytes", rt.maxMemory()))
        .put("eventBus", "ok")
        .put("operationsPort", port);
    MeterRegistry registry = BackendRegistries.getNow(config.getJsonObject("operations").getString("registryName"));
    if (registry != null && services.contains(Service.GATEWAY)) {
      info.put("connections", gauge(registry, "switchboard_node_num_clients"))
          .put("users", gauge(registry, "switchboard_node_num_users"))
          .put("subscriptions", gauge(registry, "switchboard_node_num_subscriptions"))
          .put("channels", gauge(registry, "switchboard_node_num_channels"))
          .put("publishes", count(registry, "switchboard_publishes"))
          .put("deliveries", count(registry, "switchboard_messages_sent"));
    }
    if (redis == null) return Future.succeededFuture(info.put("redis", "not used"));
    return redis.ping().map(v -> info.put("redis", "ok")).otherwise(t -> info.put("redis", "down: " + t.getMessage()));
  }

  /** A gauge's value (0 when absent: this JVM runs no gateway). */
  static long gauge(MeterRegistry registry, String name) {
    Gauge g = registry.find(name).gauge();
    return g == null || Double.isNaN(g.value()) ? 0 : (long) g.value();
  }

  /** The sum of a counter's series over all its labels. */
  static long count(MeterRegistry registry, String name) {
    double n = 0;
    for (Counter c : registry.find(name).counters()) n += c.count();
    return (long) n;
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  int port() {
    return port;
  }

  @Override
  public Future<?> stop() {
    if (redis != null) redis.close();
    return Future.succeededFuture();
  }
}
