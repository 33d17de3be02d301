package io.switchboard.gateway;

import io.switchboard.common.Addresses;
import io.switchboard.common.Ids;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway service: loads the token keys and revocations from the auth-service over the bus, then deploys one
 * {@link GatewayVerticle} per event loop sharing the WebSocket port. What the instances share (the verifier, the
 * per-subject connection counts) is thread-safe; everything else is per event loop.
 */
public final class GatewayService extends VerticleBase {
  /** How long start-up waits for an auth-service to answer with its keys. */
  static final long KEYS_WAIT_MS = 30_000;

  private final String node = Ids.hex(8);

  @Override
  public Future<?> start() {
    GatewayConfig cfg = GatewayConfig.from(config());
    TokenVerifier verifier = new TokenVerifier(vertx, config().getJsonObject("auth").getString("issuer"));
    SubjectLimits limits = new SubjectLimits(cfg.maxConnectionsPerSubject());
    GatewayMetrics metrics = new GatewayMetrics(config().getJsonObject("operations").getString("registryName"));
    var keysChanged = vertx.eventBus().<JsonObject>consumer(Addresses.AUTH_KEYS_CHANGED, m -> verifier.addKeys(m.body()));
    AtomicInteger instance = new AtomicInteger();
    return keysChanged.completion()
        .compose(v -> loadKeys(verifier, System.currentTimeMillis() + KEYS_WAIT_MS))
        .compose(v -> vertx.eventBus().<JsonObject>request(Addresses.AUTH_REVOCATIONS, new JsonObject(),
                new DeliveryOptions().setSendTimeout(cfg.requestTimeoutMs()))
            .map(m -> {
              verifier.loadRevocations(m.body());
              return null;
            }))
        .compose(v -> vertx.deployVerticle(
            () -> new GatewayVerticle(cfg, verifier, limits, metrics, node + "-" + instance.getAndIncrement()),
            new DeploymentOptions().setInstances(cfg.instances()).setConfig(config())));
  }

  /** Asks for the keys until an auth-service answers or the deadline passes. */
  private Future<Void> loadKeys(TokenVerifier verifier, long deadline) {
    Promise<Void> done = Promise.promise();
    askKeys(verifier, deadline, done);
    return done.future();
  }

  private void askKeys(TokenVerifier verifier, long deadline, Promise<Void> done) {
    vertx.eventBus().<JsonObject>request(Addresses.AUTH_KEYS, new JsonObject(), new DeliveryOptions().setSendTimeout(2000))
        .onSuccess(m -> {
          verifier.addKeys(m.body());
          done.tryComplete();
        })
        .onFailure(t -> {
          if (verifier.hasKeys()) {
            done.tryComplete();
          } else if (System.currentTimeMillis() > deadline) {
            done.tryFail("gateway: no auth-service answered on '" + Addresses.AUTH_KEYS + "' within " + KEYS_WAIT_MS
                + " ms (" + t.getMessage() + "); start the auth service (--services auth) first");
          } else {
            vertx.setTimer(250, id -> askKeys(verifier, deadline, done));
          }
        });
  }
}
