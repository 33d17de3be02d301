package io.switchboard.presence;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.RedisConnector;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A Lua script run atomically by Redis: by its SHA1 ({@code EVALSHA}), sending the source only when this Redis has
 * not seen it yet (after a restart or on a new node). All keys a script touches share one hash tag, so scripts also
 * run on Redis Cluster.
 */
final class LuaScript {
  private final String source;
  private final String sha1;

  LuaScript(String source) {
    this.source = source;
    this.sha1 = sha1(source);
  }

  /** Runs the script; every failure is a {@link ServiceError} {@code unavailable}. */
  Future<Response> run(RedisConnector redis, List<String> keys, List<String> args) {
    return redis.client().send(request(Command.EVALSHA, sha1, keys, args)).recover(t -> {
      String message = t.getMessage();
      if (message != null && message.contains("NOSCRIPT")) return redis.send(request(Command.EVAL, source, keys, args));
      return Future.failedFuture(new ServiceError(ErrorCode.UNAVAILABLE, "storage unavailable (redis): " + message));
    });
  }

  private static Request request(Command command, String script, List<String> keys, List<String> args) {
    Request r = Request.cmd(command).arg(script).arg(keys.size());
    for (String k : keys) r.arg(k);
    for (String a : args) r.arg(a);
    return r;
  }

  private static String sha1(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is required of every JVM", e);
    }
  }
}
