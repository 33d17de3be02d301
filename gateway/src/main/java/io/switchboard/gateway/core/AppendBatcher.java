package io.switchboard.gateway.core;

import io.switchboard.common.Addresses;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends the store appends one loop makes in one event-loop turn (the publishes that arrived together: many frames
 * in one read, many connections readable at once) as ONE {@link Addresses#STORE_APPEND_BATCH} request instead of a
 * {@link Addresses#STORE_APPEND} request each — one bus round trip (a reply handler, a timeout timer, a copy) for
 * many publishes.
 *
 * <p>Invariants:
 * <ul>
 *   <li>Every append gets its own outcome: the store's answer for it, or its own error, as {@code store.append}
 *       would give; a failure of the whole request (timeout, no store) fails each append of it alike.
 *   <li>Order: appends leave in the order they were made (one batch is one message; the store appends its entries
 *       in array order; one sender's messages reach the store in order), so one channel's publications keep their
 *       order, as with one request each.
 *   <li>No timer: the batch leaves at the end of the current turn ({@code runOnContext}), so an append waits for the
 *       rest of its turn at most; an append alone in its turn goes out as a plain {@code store.append}.
 *   <li>Only the loop's own thread batches; an append made on another thread goes out on its own at once.
 * </ul>
 */
final class AppendBatcher {
  /** Most appends in one request (a turn with more sends several, in order). */
  static final int MAX_BATCH = 64;

  private record Pending(JsonObject request, Promise<JsonObject> answer) {}

  private final GatewayLoop loop;
  private final Context context;
  /**
   * The loop's event-loop thread. Compared by thread, not by context: handlers of a connection run on duplicates of
   * the loop's context (Vert.x gives each its own), all on this one thread.
   */
  private volatile Thread thread;
  private List<Pending> turn = new ArrayList<>(); // this loop's thread only
  private boolean scheduled; // this loop's thread only

  AppendBatcher(GatewayLoop loop) {
    this.loop = loop;
    this.context = loop.vertx.getOrCreateContext();
    context.runOnContext(v -> thread = Thread.currentThread());
  }

  /**
   * Appends {@code request} (a {@code store.append} request): the store's answer for it, or its failure (a
   * ServiceError, or the bus failure of a request sent alone: the caller maps it with ServiceError.from).
   */
  Future<JsonObject> append(JsonObject request) {
    if (Thread.currentThread() != thread) return single(request);
    Promise<JsonObject> answer = Promise.promise();
    turn.add(new Pending(request, answer));
    if (turn.size() >= MAX_BATCH) {
      send(take());
    } else if (!scheduled) {
      scheduled = true;
      context.runOnContext(v -> {
        scheduled = false;
        if (!turn.isEmpty()) send(take());
      });
    }
    return answer.future();
  }

  private List<Pending> take() {
    List<Pending> batch = turn;
    turn = new ArrayList<>();
    return batch;
  }

  private void send(List<Pending> batch) {
    if (batch.size() == 1) {
      Pending p = batch.get(0);
      single(p.request).onComplete(p.answer);
      return;
    }
    JsonArray entries = new JsonArray(new ArrayList<>(batch.size()));
    for (Pending p : batch) entries.add(p.request);
    loop.<JsonObject>request(Addresses.STORE_APPEND_BATCH, new JsonObject().put("publications", entries), loop.timeout())
        .onComplete(ar -> {
          if (ar.succeeded()) {
            answer(batch, ar.result());
          } else if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
            // a store without the batch address (an older node during an upgrade): each on its own, in order
            for (Pending p : batch) single(p.request).onComplete(p.answer);
          } else {
            ServiceError e = ServiceError.from(ar.cause(), "message store");
            for (Pending p : batch) p.answer.fail(e);
          }
        });
  }

  private static void answer(List<Pending> batch, Message<JsonObject> reply) {
    JsonArray results = reply.body() == null ? null : reply.body().getJsonArray("results");
    for (int i = 0; i < batch.size(); i++) {
      Promise<JsonObject> answer = batch.get(i).answer;
      Object r = results != null && i < results.size() ? results.getValue(i) : null;
      if (!(r instanceof JsonObject result)) {
        answer.fail(new ServiceError(ErrorCode.INTERNAL, "message store answered " + (results == null ? 0 : results.size())
            + " results for " + batch.size() + " publications"));
      } else if (result.getValue("error") instanceof JsonObject error) {
        answer.fail(error(error));
      } else {
        answer.complete(result);
      }
    }
  }

  /** An entry's {@code {code, message, …extra}} as the ServiceError the store raised. */
  private static ServiceError error(JsonObject error) {
    ErrorCode code = ErrorCode.fromWire(error.getString("code"));
    String message = error.getString("message", "message store failed");
    JsonObject extra = error.copy();
    extra.remove("code");
    extra.remove("message");
    return new ServiceError(code == null ? ErrorCode.INTERNAL : code, message, extra.isEmpty() ? null : extra);
  }

  private Future<JsonObject> single(JsonObject request) {
    return loop.<JsonObject>request(Addresses.STORE_APPEND, request, loop.timeout()).map(Message::body);
  }
}
