package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.AccessLog;
import io.switchboard.common.LogFields;
import io.switchboard.common.test.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** logging.accessLog: a line per HTTP request of the auth API and the operations endpoints, with its fields. */
class AccessLogTest {
  @Test
  void eachRequestIsLoggedWithMethodPathStatusAndTime() {
    List<Map<String, Object>> lines = new CopyOnWriteArrayList<>();
    Logger logger = Logger.getLogger(AccessLog.class.getName());
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord r) {
        for (Object p : r.getParameters() == null ? new Object[0] : r.getParameters()) {
          if (p instanceof LogFields f) lines.add(f.asMap());
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    try (TestServer s = TestServer.start(new JsonObject().put("logging", new JsonObject().put("accessLog", true)))) {
      // after the start: configuring the JVM's logging (first Switchboard of the JVM) resets every logger's handlers
      logger.addHandler(capture);
      s.token("access-logged", TestServer.allGrants());
      TestServer.Reply denied = s.httpCall(HttpMethod.POST, "/v1/keys?secret=not-logged", "wrong-key", "{}");
      assertEquals(401, denied.status());
      s.on.await(() -> s.http.request(new RequestOptions().setHost("127.0.0.1").setPort(s.opsPort).setURI("/health/live"))
          .compose(r -> r.send()).compose(r -> r.body()));
      Await.until("three access log lines", () -> lines.size() >= 3);
      Map<String, Object> token = lines.stream().filter(l -> "/v1/tokens".equals(l.get("path"))).findFirst().orElseThrow();
      assertEquals("auth", token.get("api"));
      assertEquals("POST", token.get("method"));
      assertEquals(200, token.get("status"));
      assertTrue(((Number) token.get("ms")).longValue() >= 0);
      assertEquals("127.0.0.1", token.get("remote"));
      Map<String, Object> keys = lines.stream().filter(l -> "/v1/keys".equals(l.get("path"))).findFirst().orElseThrow();
      assertEquals(401, keys.get("status"));
      assertTrue(lines.stream().noneMatch(l -> String.valueOf(l.get("path")).contains("secret")), lines.toString());
      assertTrue(lines.stream().anyMatch(l -> "operations".equals(l.get("api")) && "/health/live".equals(l.get("path"))), lines.toString());
    } finally {
      logger.removeHandler(capture);
    }
  }
}
