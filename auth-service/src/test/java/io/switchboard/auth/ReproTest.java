package io.switchboard.auth;

import io.switchboard.common.test.Ports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class ReproTest {
  int server(Vertx vertx) throws Exception {
    int port = Ports.free();
    vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> req.response().end("{}"))).listen(port, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get();
    return port;
  }

  String loop(Vertx vertx, int port, boolean onContext) throws Exception {
    HttpClient c = vertx.createHttpClient();
    Context ctx = vertx.getOrCreateContext();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8000; i++) {
      HttpMethod m = i % 2 == 0 ? HttpMethod.POST : HttpMethod.GET;
      Supplier<Future<Buffer>> call = () -> c.request(m, port, "127.0.0.1", "/x")
          .compose(q -> m == HttpMethod.POST ? q.send(Buffer.buffer("{}")) : q.send()).compose(x -> x.body());
      Future<Buffer> f;
      if (onContext) {
        Promise<Buffer> p = Promise.promise();
        ctx.runOnContext(v -> call.get().onComplete(p));
        f = p.future();
      } else {
        f = call.get();
      }
      try {
        f.await(3, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        sb.append(" HUNG@").append(i);
      }
    }
    return sb.toString();
  }

  @Test
  void fromTestThread(Vertx vertx) throws Exception {
    System.out.println("FROM TEST THREAD:" + loop(vertx, server(vertx), false));
  }

  @Test
  void fromVertxContext(Vertx vertx) throws Exception {
    System.out.println("FROM CONTEXT:" + loop(vertx, server(vertx), true));
  }
}
