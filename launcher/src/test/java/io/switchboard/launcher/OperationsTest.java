package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.test.Await;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Health and metrics endpoints, and the launcher's refusal of bad configuration. */
class OperationsTest {
  private final TestServer s = SharedServer.get();

  private int status(String path) {
    return s.on.await(() -> s.http.request(new RequestOptions().setHost("127.0.0.1").setPort(s.opsPort).setURI(path))
        .compose(r -> r.send()).map(r -> r.statusCode()));
  }

  @Test
  void liveReadyAndMetrics() {
    assertTrue(status("/health/live") / 100 == 2);
    assertEquals(200, status("/health/ready"));
    s.connect(s.token("metrics-probe", TestServer.allGrants())).close();
    Await.until("connection metric", () -> s.metric("switchboard_connections") >= 0);
    assertTrue(s.metric("vertx_http_server_active_connections") >= 0);
  }

  /** Runs the real launcher main in a child JVM and returns (exit code, stderr). */
  private static List<String> runMain(List<String> args, String... env) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    for (int i = 0; i < env.length; i += 2) pb.environment().put(env[i], env[i + 1]);
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("launcher did not exit");
    }
    return List.of(Integer.toString(p.exitValue()), new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  @Test
  void badConfigStopsStartUpNamingTheKey() throws Exception {
    Path file = Files.createTempFile("switchboard", ".yaml");
    Files.writeString(file, "gateway:\n  port: eighty\n");
    List<String> r = runMain(List.of("--config", file.toString()));
    assertEquals("2", r.get(0));
    assertTrue(r.get(1).contains("gateway.port"), r.get(1));

    List<String> env = runMain(List.of(), "SWITCHBOARD_GATEWAY_MAX_QUEUE_BYTES", "lots");
    assertEquals("2", env.get(0));
    assertTrue(env.get(1).contains("gateway.maxQueueBytes") && env.get(1).contains("SWITCHBOARD_GATEWAY_MAX_QUEUE_BYTES"), env.get(1));

    Files.writeString(file, "gatewy:\n  port: 1\n");
    List<String> typo = runMain(List.of("--config", file.toString()));
    assertEquals("2", typo.get(0));
    assertTrue(typo.get(1).contains("gatewy"), typo.get(1));

    List<String> memoryCluster = runMain(List.of("--cluster"));
    assertEquals("2", memoryCluster.get(0));
    assertTrue(memoryCluster.get(1).contains("cluster mode needs the redis engine"), memoryCluster.get(1));

    List<String> services = runMain(List.of("--services", "gateway,mailer"));
    assertEquals("2", services.get(0));
    assertTrue(services.get(1).contains("mailer"), services.get(1));
  }
}
