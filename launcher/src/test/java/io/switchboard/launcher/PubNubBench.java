package io.switchboard.launcher;

import io.switchboard.common.test.Await;
import io.switchboard.gateway.protocol.pubnub.PubNubEndpoint;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Map;

/**
 * Measurement, not a test (surefire does not run it): N PubNub subscribe long-polls held by one gateway (clients in
 * a Node process), and the gateway JVM's heap per held poll (session, subscription, poller, HTTP connection).
 *
 * <p>Run: {@code mvn -q -o -pl launcher test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt} then,
 * in {@code launcher}, {@code java -cp target/test-classes:target/classes:$(cat target/cp.txt)
 * io.switchboard.launcher.PubNubBench [polls]}.
 */
public final class PubNubBench {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    JsonObject cfg = SharedServer.config();
    cfg.put("apps", new JsonArray().add(new JsonObject().put("id", "default").put("key", "bench-key").put("secret", "bench-secret-0123")));
    TestServer s = TestServer.start(cfg);
    try {
      String token = s.token("bench", TestServer.allGrants());
      long before = heapAfterGc();
      try (NodeScript node = NodeScript.start("pubnub-holds.js", Map.of("PORT", Integer.toString(s.wsPort), "KEY", "bench-key",
          "TOKEN", token, "N", Integer.toString(n), "CHANNEL", System.getProperty("channel", "task:bench")))) {
        node.take("all polls sent", j -> "held".equals(j.getString("event")), Duration.ofMinutes(5));
        Await.until("held polls", Duration.ofMinutes(1), () -> PubNubEndpoint.heldPolls() >= n);
        long during = heapAfterGc();
        System.out.printf("held polls: %d%nheap before: %d KiB, with the polls held: %d KiB%nheap per held poll: %.0f bytes%n",
            PubNubEndpoint.heldPolls(), before / 1024, during / 1024, (during - before) / (double) n);
        if (Boolean.getBoolean("histogram")) {
          Object h = ManagementFactory.getPlatformMBeanServer().invoke(new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"),
              "gcClassHistogram", new Object[] {null}, new String[] {String[].class.getName()});
          String[] lines = h.toString().split("\n");
          for (int i = 0; i < Math.min(45, lines.length); i++) System.out.println(lines[i]);
        }
      }
    } finally {
      s.close();
      System.exit(0);
    }
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200); // a measurement tool, not a test: let the collector settle
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
