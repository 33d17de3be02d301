package io.switchboard.launcher;

import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.spi.cluster.hazelcast.ClusterHealthCheck;
import java.util.Set;

/**
 * Operations endpoints of every JVM: {@code /health/live}, {@code /health/ready} (the event bus answers, and Redis
 * when the engine is redis) and {@code /metrics} in Prometheus format.
 */
final class OperationsServer extends VerticleBase {
  private final JsonObject config;
  private final Set<Service> services;
  private RedisConnector redis;
  private int port;

  private final boolean clustered;

  OperationsServer(JsonObject config, Set<Service> services, boolean clustered) {
    this.config = config;
    this.services = services;
    this.clustered = clustered;
  }

  @Override
  public Future<?> start() {
    HealthChecks ready = HealthChecks.create(vertx);
    ready.register("eventbus", 2000, p -> p.complete(Status.OK(new JsonObject().put("services", services.toString()))));
    if (clustered) ready.register("cluster", 2000, ClusterHealthCheck.createProcedure(vertx));
    if ("redis".equals(config.getString("engine"))) {
      redis = RedisConnector.create(vertx, config.getJsonObject("redis"));
      ready.register("redis", 2000, p -> redis.ping()
          .onSuccess(v -> p.complete(Status.OK()))
          .onFailure(t -> p.complete(Status.KO(new JsonObject().put("error", t.getMessage())))));
    }
    Router router = Router.router(vertx);
    router.get("/health/live").handler(HealthCheckHandler.create(vertx));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(ready));
    router.get("/metrics").handler(PrometheusScrapingHandler.create(config.getJsonObject("operations").getString("registryName")));
    JsonObject ops = config.getJsonObject("operations");
    return vertx.createHttpServer().requestHandler(router).listen(ops.getInteger("port"), ops.getString("host"))
        .onSuccess(s -> port = s.actualPort());
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
