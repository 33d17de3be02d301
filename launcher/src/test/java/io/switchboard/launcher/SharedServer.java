package io.switchboard.launcher;

import io.vertx.core.json.JsonObject;

/**
 * One server with the default configuration shared by the end-to-end test classes that need nothing special
 * (starting one takes a second; each test uses its own channel names and subjects so they never interfere).
 * Namespaces used by the tests are configured here; {@code strictNamespaces} makes others unknown.
 */
final class SharedServer {
  private SharedServer() {}

  private static TestServer server;

  static synchronized TestServer get() {
    if (server == null) {
      server = TestServer.start(config());
      Runtime.getRuntime().addShutdownHook(new Thread(server::close));
    }
    return server;
  }

  static JsonObject config() {
    return new JsonObject()
        .put("presence", new JsonObject().put("timeoutSeconds", 2).put("sweepIntervalMs", 100))
        .put("channels", new JsonObject()
            .put("strictNamespaces", true)
            .put("namespaces", new JsonObject()
                .put("task", new JsonObject())
                .put("agent", new JsonObject())
                .put("chat", new JsonObject())
                .put("dm", new JsonObject())
                .put("hist", new JsonObject().put("historySize", 50))
                .put("typing", new JsonObject().put("historySize", 0).put("presence", false))
                .put("quiet", new JsonObject().put("joinLeave", false))
                .put("feed", new JsonObject().put("clientPublish", false))
                .put("norecover", new JsonObject().put("recovery", false))
                .put("slow", new JsonObject().put("publishRatePerSecond", 2))));
  }
}
