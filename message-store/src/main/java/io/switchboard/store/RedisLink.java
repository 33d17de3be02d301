package io.switchboard.store;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * One long-lived, pipelined Redis connection that runs the store's scripts.
 *
 * <p>Why one connection: Redis executes the commands of one connection in the order they were written and answers
 * in that order, and the client completes their futures in that order on the connection's context. So appends
 * issued by one verticle complete — and are fanned out — in offset order per channel, at no cost (no per-channel
 * chain, no waiting for a reply before the next append is written).
 *
 * <p>Confined to one thread: the event loop of the context it was created on (the store verticle's; a fresh one when
 * created off Vert.x). Every command is issued from that thread — a call from another thread hops onto it first (the
 * verticle's own calls, which run on per-message duplicates of its context on that same thread, do not) — and the
 * connection future is completed on it. Commands issued by one thread reach the connection in the order issued;
 * commands issued from two threads need not (the client writes at once on the connection's own thread and queues
 * writes from any other), which reordered appends fired from a test thread while a reply pumped the next batch on the
 * loop. On a connection future completed on another thread, a command issued before its queued listeners ran would
 * overtake them — hence the completion hop. After Vert.x has closed, a hop is refused: the command fails
 * {@code unavailable}.
 *
 * <p>Not covered: a NOSCRIPT retry keeps the completion order (offsets are assigned when a script runs), but when
 * another client loads the script between a batch's refused EVALSHA and its retry, the next batch's EVALSHA (already
 * written) runs first — two batches stored in the opposite order of their submission. It needs a SCRIPT FLUSH
 * while appends are in flight.
 *
 * <p>When the connection breaks (Redis restart) it is dropped and the next command opens a new one; while Redis is
 * unreachable, commands fail fast with {@code unavailable} and reconnects are attempted at most every
 * {@link #RETRY_MS}.
 */
final class RedisLink {
  static final long RETRY_MS = 200;

  private final Redis client;
  private final ContextInternal context;
  private Future<RedisConnection> connection; // guarded by this
  private long failedAtNanos;
  private boolean closed;

  RedisLink(Vertx vertx, Redis client) {
    this.client = client;
    this.context = (ContextInternal) vertx.getOrCreateContext();
  }

  /** The context every command is issued from. */
  Context context() {
    return context;
  }

  /**
   * Runs {@code task} on the link's thread: now when called there, else queued on the link's context.
   *
   * @return false when it could not be queued (Vert.x closed): the task will never run
   */
  boolean onContext(Runnable task) {
    if (context.inThread()) {
      task.run();
      return true;
    }
    try {
      context.runOnContext(v -> task.run());
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  /** Runs a script by SHA, falling back to its source when Redis does not have it cached. */
  Future<Response> eval(RedisScript script, List<String> keys, List<String> args) {
    return eval(script, r -> {
      r.arg(keys.size());
      for (String k : keys) r.arg(k);
      for (String a : args) r.arg(a);
    });
  }

  /**
   * Runs a script by SHA, falling back to its source when Redis does not have it cached; {@code arguments} adds
   * numkeys, the keys and the arguments to the request (it may be called twice: the fallback builds a new one).
   */
  Future<Response> eval(RedisScript script, Consumer<Request> arguments) {
    if (!context.inThread()) {
      Promise<Response> answer = Promise.promise();
      if (!onContext(() -> eval(script, arguments).onComplete(answer))) return Future.failedFuture(closedError());
      return answer.future();
    }
    Future<RedisConnection> conn = connection();
    return conn
        .compose(c -> c.send(request(Command.EVALSHA, script.sha(), arguments))
            .recover(t -> t instanceof ErrorType e && e.is("NOSCRIPT")
                ? c.send(request(Command.EVAL, script.source(), arguments))
                : Future.failedFuture(t)))
        .recover(t -> {
          if (!(t instanceof ErrorType)) drop(conn);
          return Future.failedFuture(unavailable(t));
        });
  }

  synchronized Future<Void> close() {
    closed = true;
    Future<RedisConnection> c = connection;
    connection = null;
    return c == null ? Future.succeededFuture() : c.compose(RedisConnection::close).otherwiseEmpty().mapEmpty();
  }

  private synchronized Future<RedisConnection> connection() {
    if (closed) return Future.failedFuture(closedError());
    if (connection != null && (!connection.failed() || System.nanoTime() - failedAtNanos < RETRY_MS * 1_000_000)) {
      return connection;
    }
    Promise<RedisConnection> opened = Promise.promise();
    client.connect().compose(c -> {
      List<Request> loads = new ArrayList<>();
      for (RedisScript s : RedisScript.ALL) loads.add(Request.cmd(Command.SCRIPT).arg("LOAD").arg(s.source()));
      return c.batch(loads).map(c).onFailure(t -> c.close());
    }).onComplete(ar -> {
      // completes on the link's thread (see the class note); when Vert.x is closing, wherever it is
      if (!onContext(() -> opened.handle(ar))) opened.handle(ar);
    });
    Future<RedisConnection> f = opened.future();
    connection = f;
    f.onSuccess(c -> c.exceptionHandler(t -> drop(f)).endHandler(v -> drop(f)))
        .onFailure(t -> failed(f));
    return f;
  }

  private synchronized void failed(Future<RedisConnection> f) {
    if (connection == f) failedAtNanos = System.nanoTime();
  }

  /**
   * Forgets a broken connection so the next command opens a new one. It is not closed here: a broken connection
   * ends by itself, and closing it first trips the client's own end-of-connection bookkeeping.
   */
  private synchronized void drop(Future<RedisConnection> f) {
    if (connection == f) connection = null;
  }

  private static Request request(Command cmd, String script, Consumer<Request> arguments) {
    Request r = Request.cmd(cmd).arg(script);
    arguments.accept(r);
    return r;
  }

  static ServiceError closedError() {
    return new ServiceError(ErrorCode.UNAVAILABLE, "message store is closed");
  }

  static ServiceError unavailable(Throwable t) {
    if (t instanceof ServiceError e) return e;
    return new ServiceError(ErrorCode.UNAVAILABLE, "message store unavailable (redis): " + t.getMessage());
  }
}
