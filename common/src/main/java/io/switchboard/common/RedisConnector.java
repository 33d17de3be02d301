package io.switchboard.common;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;

/**
 * The one way services open Redis (engine {@code redis}). Uses the pooled client: a connection broken by a Redis
 * restart is dropped from the pool and the next command opens a fresh one, so services recover by themselves once
 * Redis is back. The pool's wait queue is sized for bursts (the default of 24 fails under load, see
 * reference/vertx5.md). Every failure reaching a caller is a {@link ServiceError} {@code unavailable}.
 *
 * <p>URL forms: {@code redis://host:port[/db]}, {@code redis-sentinel://h1:p1,h2:p2/master} and
 * {@code redis-cluster://h1:p1,h2:p2}. Keys of one channel share a {@code {hash tag}} so cluster mode works.
 */
public final class RedisConnector {
  private final Vertx vertx;
  private final Redis client;
  private final String url;

  private RedisConnector(Vertx vertx, Redis client, String url) {
    this.vertx = vertx;
    this.client = client;
    this.url = url;
  }

  /** From the {@code redis} section of the config: {@code url}, {@code poolSize}. */
  public static RedisConnector create(Vertx vertx, JsonObject redisConfig) {
    String url = redisConfig.getString("url");
    int pool = redisConfig.getInteger("poolSize", 16);
    return new RedisConnector(vertx, Redis.createClient(vertx, options(url, pool)), url);
  }

  static RedisOptions options(String url, int poolSize) {
    RedisOptions o = new RedisOptions().setMaxPoolSize(poolSize).setMaxPoolWaiting(64 * 1024).setMaxWaitingHandlers(64 * 1024);
    if (url.startsWith("redis-sentinel://")) {
      String rest = url.substring("redis-sentinel://".length());
      int slash = rest.indexOf('/');
      String hosts = slash < 0 ? rest : rest.substring(0, slash);
      String master = slash < 0 ? "mymaster" : rest.substring(slash + 1);
      o.setType(RedisClientType.SENTINEL).setMasterName(master);
      for (String h : hosts.split(",")) o.addConnectionString("redis://" + h);
    } else if (url.startsWith("redis-cluster://")) {
      o.setType(RedisClientType.CLUSTER);
      for (String h : url.substring("redis-cluster://".length()).split(",")) o.addConnectionString("redis://" + h);
    } else {
      o.setConnectionString(url);
    }
    return o;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Redis client() {
    return client;
  }

  public String url() {
    return url;
  }

  /** Sends one command; failures become {@code unavailable}. */
  public Future<Response> send(Request request) {
    return client.send(request).recover(RedisConnector::unavailable);
  }

  /** Sends commands as one pipeline; failures become {@code unavailable}. */
  public Future<List<Response>> batch(List<Request> requests) {
    return client.batch(requests).recover(RedisConnector::unavailable);
  }

  /** Whether Redis answers (readiness). */
  public Future<Void> ping() {
    return send(Request.cmd(Command.PING)).mapEmpty();
  }

  public void close() {
    client.close();
  }

  private static <T> Future<T> unavailable(Throwable t) {
    if (t instanceof ServiceError) return Future.failedFuture(t);
    return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "storage unavailable (redis): " + t.getMessage()));
  }
}
