package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.switchboard.common.Config;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.Ports;
import io.switchboard.common.test.TestRedis;
import io.switchboard.deploy.kubernetes.Rendered;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The single overlay's pod configuration boots: its ConfigMap file and environment (Secret values resolved, all
 * empty as shipped) start every service on Redis, generate an admin key (the pod prints it once), answer
 * {@code /health/ready} on the operations port and mint a token with that key. Only the listening ports and the
 * Redis URL are the test's.
 */
class SingleOverlayTest {
  @TempDir
  Path tmp;

  @Test
  void theSinglePodsConfigurationStartsEveryServiceOnRedis() throws Exception {
    Rendered r = new Rendered("overlays/single");
    Deployment d = r.named(Deployment.class, "switchboard").orElseThrow();
    PodTemplateSpec pod = d.getSpec().getTemplate();
    Container c = pod.getSpec().getContainers().get(0);
    assertFalse(c.getArgs().contains("--cluster"));
    String configPath = Rendered.arg(c, "--config");
    Path file = tmp.resolve(Path.of(configPath).getFileName().toString());
    Files.writeString(file, r.mountedFile(pod, c, configPath));
    TestRedis redis = TestRedis.dedicated();
    Switchboard sb = null;
    try {
      Map<String, String> env = new HashMap<>(r.environment(c, "10.1.2.3"));
      env.put("SWITCHBOARD_REDIS_URL", redis.url());
      int ops = Ports.free();
      int auth = Ports.free();
      env.put("SWITCHBOARD_GATEWAY_PORT", Integer.toString(Ports.free()));
      env.put("SWITCHBOARD_AUTH_PORT", Integer.toString(auth));
      env.put("SWITCHBOARD_OPERATIONS_PORT", Integer.toString(ops));
      JsonObject config = Config.load(file, env);
      sb = Switchboard.start(config, Service.parse(Rendered.arg(c, "--services")), false).await(60, TimeUnit.SECONDS);
      assertEquals(4, sb.services().size(), "every service in the one pod");
      assertTrue(sb.generatedAdminKey(), "the shipped Secret's empty admin key makes the pod generate one");
      HttpClient http = HttpClient.newHttpClient();
      Await.until("ready", Duration.ofSeconds(30), () -> status(http, HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ops + "/health/ready")).build()) == 200);
      HttpResponse<String> token = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + auth + "/v1/tokens"))
          .header("x-api-key", sb.adminKey()).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"subject\":\"k8s\",\"grants\":[{\"channel\":\"*\",\"capabilities\":[\"subscribe\"]}]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, token.statusCode(), token.body());
    } finally {
      if (sb != null) sb.close().await(30, TimeUnit.SECONDS);
      redis.stop();
    }
  }

  private static int status(HttpClient http, HttpRequest req) {
    try {
      return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (java.io.IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
