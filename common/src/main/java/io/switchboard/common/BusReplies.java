package io.switchboard.common;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import java.util.function.Function;

/**
 * The one way services register bus consumers, so that every request gets an answer, whatever happens:
 * <ul>
 *   <li>the operation's result is the reply;
 *   <li>a {@link ServiceError} (thrown or as the failed future) is the failure, unchanged — bad input is the
 *       caller's, so it is not logged;
 *   <li>anything else (an exception escaping the operation, a failed future of another type, a reply that cannot be
 *       encoded or copied, even a stack overflow) fails the request with {@code internal} and one log line naming
 *       the address and the exception, without a stack trace (a client that can trigger it must not be able to
 *       flood the log).
 * </ul>
 * A message sent without a reply address (fire-and-forget) that fails is logged the same way. Timeouts and "no
 * handler" of a downstream request map to {@code unavailable} (see {@link ServiceError#from}).
 */
public final class BusReplies {
  private BusReplies() {}

  private static final System.Logger LOG = System.getLogger(BusReplies.class.getName());

  /** Registers {@code operation} at {@code address} behind {@link #answering}. */
  public static <T> MessageConsumer<T> serve(EventBus bus, String address, Function<Message<T>, Future<?>> operation) {
    return bus.consumer(address, answering(operation));
  }

  /** A handler that runs {@code operation} and always answers (see the class comment). */
  public static <T> Handler<Message<T>> answering(Function<Message<T>, Future<?>> operation) {
    return msg -> {
      Future<?> result;
      try {
        result = operation.apply(msg);
        if (result == null) result = Future.succeededFuture();
      } catch (RuntimeException | StackOverflowError e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(done -> {
        if (done.succeeded()) reply(msg, done.result());
        else fail(msg, done.cause());
      });
    };
  }

  private static void reply(Message<?> msg, Object result) {
    if (msg.replyAddress() == null) return;
    try {
      msg.reply(result);
    } catch (RuntimeException | StackOverflowError e) {
      // the local codec copies the reply, the clustered one encodes it: a value that cannot be is our bug
      fail(msg, e);
    }
  }

  private static void fail(Message<?> msg, Throwable cause) {
    ServiceError error;
    if (cause instanceof ServiceError e) {
      error = e;
    } else if (cause instanceof ReplyException) {
      error = ServiceError.from(cause, msg.address());
    } else {
      StackTraceElement[] at = cause.getStackTrace();
      LOG.log(System.Logger.Level.WARNING, msg.address() + " failed unexpectedly: " + cause
          + (at.length > 0 ? " at " + at[0] : ""));
      error = new ServiceError(ErrorCode.INTERNAL, msg.address() + " failed: internal error");
    }
    if (msg.replyAddress() != null) {
      error.failReply(msg);
    } else if (error.code() != ErrorCode.INTERNAL) {
      // no one to tell (internal errors are logged above)
      LOG.log(System.Logger.Level.WARNING, msg.address() + " failed: " + error.getMessage());
    }
  }
}
