package io.switchboard.store;

import io.switchboard.common.*;
import io.switchboard.common.test.*;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.*;
import org.junit.jupiter.api.Test;

class ProbeTmpTest {
  String stat(RedisConnector c) {
    String s = Await.result(c.send(Request.cmd(Command.INFO).arg("commandstats"))).toString();
    Await.result(c.send(Request.cmd(Command.CONFIG).arg("RESETSTAT")));
    return s.lines().filter(l -> l.contains("eval")).findFirst().orElse("-");
  }
  @Test
  void probe() throws Exception {
    Vertx vertx = Vertx.vertx();
    String url = TestRedis.shared().url();
    RedisConnector c = RedisConnector.create(vertx, new JsonObject().put("url", url));
    RedisMessageStore store = new RedisMessageStore(RedisConnector.create(vertx, new JsonObject().put("url", url)), StoreSettings.DEFAULT);
    String payload = "x".repeat(1024);
    for (int variant = 0; variant < 4; variant++) {
      NamespaceOptions o = variant == 1 ? new NamespaceOptions(100000, 3600, true, true, true, true, 0) : NamespaceOptions.DEFAULT;
      Object data = variant == 2 ? "small" : payload;
      String ch = "p:" + variant + Ids.hex(4);
      for (int i = 0; i < 2000; i++) Await.result(store.append(new Publication(null, ch, 0, null, 0, "e", data, "a", "b", null, null, 0, false, null), o, null));
      stat(c);
      long t0 = System.nanoTime();
      for (int i = 0; i < 3000; i++) Await.result(store.append(new Publication(null, ch, 0, null, 0, "e", data, "a", "b", null, null, 0, false, null), o, null));
      System.out.println("variant " + variant + " " + (System.nanoTime() - t0) / 3000 / 1000 + "us/append " + stat(c));
    }
    // raw commands for comparison
    for (int i = 0; i < 3000; i++) Await.result(c.send(Request.cmd(Command.XADD).arg("raw:s").arg("MAXLEN").arg("1000").arg("*").arg("p").arg(payload)));
    String s = Await.result(c.send(Request.cmd(Command.INFO).arg("commandstats"))).toString();
    s.lines().filter(l -> l.contains("xadd")).forEach(System.out::println);
    vertx.close();
  }
}
