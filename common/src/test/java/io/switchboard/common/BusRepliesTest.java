package io.switchboard.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Every consumer registered through {@link BusReplies} answers, over the real event bus. */
class BusRepliesTest {
  static Vertx vertx;
  static EventBus bus;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    bus = vertx.eventBus();
  }

  @AfterAll
  static void stop() {
    Await.result(vertx.close());
  }

  private static ServiceError failureOf(String address) {
    return ServiceError.from(Await.failure(bus.request(address, new JsonObject())), address);
  }

  private static void serve(String address, java.util.function.Function<io.vertx.core.eventbus.Message<Object>, Future<?>> op) {
    Await.result(BusReplies.serve(bus, address, op).completion());
  }

  @Test
  @DisplayName("a result is the reply; a ServiceError (thrown or failed) reaches the caller unchanged")
  void resultsAndServiceErrors() {
    serve("t.ok", m -> Future.succeededFuture(new JsonObject().put("ok", true)));
    serve("t.throws", m -> {
      throw ServiceError.badRequest("x must be a number");
    });
    serve("t.fails", m -> Future.failedFuture(new ServiceError(ErrorCode.RATE_LIMITED, "slow down", new JsonObject().put("retryAfterMs", 5))));
    serve("t.empty", m -> null);
    assertEquals(new JsonObject().put("ok", true), Await.result(bus.request("t.ok", new JsonObject())).body());
    ServiceError thrown = failureOf("t.throws");
    assertEquals(ErrorCode.BAD_REQUEST, thrown.code());
    assertEquals("x must be a number", thrown.getMessage());
    ServiceError failed = failureOf("t.fails");
    assertEquals(ErrorCode.RATE_LIMITED, failed.code());
    assertEquals(5, failed.extra().getInteger("retryAfterMs"));
    assertEquals(null, Await.result(bus.request("t.empty", new JsonObject())).body());
  }

  @Test
  @DisplayName("an unexpected exception, a failed future of another type or a stack overflow answer internal")
  void unexpectedFailuresAnswerInternal() {
    serve("t.arith", m -> Future.succeededFuture(Math.multiplyExact(Long.MAX_VALUE, 2)));
    serve("t.failedArith", m -> Future.failedFuture(new ArithmeticException("long overflow")));
    serve("t.overflow", m -> {
      throw new StackOverflowError();
    });
    for (String address : new String[] {"t.arith", "t.failedArith", "t.overflow"}) {
      ServiceError e = failureOf(address);
      assertEquals(ErrorCode.INTERNAL, e.code(), address);
      assertEquals(address + " failed: internal error", e.getMessage(), "no exception text reaches the caller");
    }
  }

  @Test
  @DisplayName("a reply that cannot be copied or encoded answers internal instead of nothing")
  void unencodableReplyAnswersInternal() {
    serve("t.unencodable", m -> Future.succeededFuture(new JsonObject().put("x", new Object())));
    assertEquals(ErrorCode.INTERNAL, failureOf("t.unencodable").code());
  }

  @Test
  @DisplayName("a fire-and-forget message that fails is not answered and breaks nothing; the consumer keeps serving")
  void fireAndForget() {
    AtomicInteger seen = new AtomicInteger();
    serve("t.send", m -> {
      seen.incrementAndGet();
      if (m.body() instanceof JsonObject o && o.getBoolean("boom", false)) throw new IllegalStateException("boom");
      return Future.succeededFuture(new JsonObject());
    });
    bus.send("t.send", new JsonObject().put("boom", true));
    bus.send("t.send", new JsonObject());
    Await.until("both messages handled", () -> seen.get() == 2);
    assertTrue(Await.result(bus.request("t.send", new JsonObject())).body() instanceof JsonObject);
  }
}
