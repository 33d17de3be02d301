package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.common.Addresses;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Unknown methods go to an application's RPC handler on the bus, else method_not_found. */
class RpcTest {
  private static final TestServer s = SharedServer.get();

  /** A tiny application service: {@code rpc.weather} answers, {@code rpc.fails} refuses. */
  static final class WeatherVerticle extends VerticleBase {
    @Override
    public Future<?> start() {
      var ok = vertx.eventBus().<JsonObject>consumer(Addresses.rpc("weather"), m -> m.reply(new JsonObject()
          .put("city", m.body().getJsonObject("params").getString("city"))
          .put("asker", m.body().getString("subject"))
          .put("temp", 21)));
      var bad = vertx.eventBus().<JsonObject>consumer(Addresses.rpc("fails"), m ->
          new ServiceError(ErrorCode.PERMISSION_DENIED, "only admins may do that").failReply(m));
      return Future.all(ok.completion(), bad.completion());
    }
  }

  @BeforeAll
  static void deployApp() {
    Await.result(s.sb.vertx().deployVerticle(new WeatherVerticle()));
  }

  @Test
  void registeredHandlerAnswers() {
    try (WsClient c = s.connect(s.token("rpc-user", TestServer.allGrants()))) {
      JsonObject r = c.result("weather", new JsonObject().put("city", "Oslo"));
      assertEquals("Oslo", r.getString("city"));
      assertEquals("rpc-user", r.getString("asker"));
      assertEquals(21, r.getInteger("temp"));
    }
  }

  @Test
  void handlerErrorsReachTheClientTyped() {
    try (WsClient c = s.connect(s.token("rpc-user2", TestServer.allGrants()))) {
      JsonObject r = c.request("fails", new JsonObject());
      assertEquals("permission_denied", r.getJsonObject("error").getString("code"));
      assertEquals("only admins may do that", r.getJsonObject("error").getString("message"));
    }
  }

  @Test
  void unknownMethodIsMethodNotFound() {
    try (WsClient c = s.connect(s.token("rpc-user3", TestServer.allGrants()))) {
      JsonObject r = c.request("no.such.method", new JsonObject());
      assertEquals("method_not_found", r.getJsonObject("error").getString("code"));
      JsonObject bad = c.request("bad method!", new JsonObject());
      assertEquals("bad_request", bad.getJsonObject("error").getString("code"));
    }
  }
}
