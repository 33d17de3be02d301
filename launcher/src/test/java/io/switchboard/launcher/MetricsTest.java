package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.switchboard.common.Addresses;
import io.switchboard.common.CloseCode;
import io.switchboard.common.Ids;
import io.switchboard.common.test.Await;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The metric names and labels operators chart (docs/operations.md), scraped from a running server after real
 * traffic; and the Grafana dashboard and alert rules in deploy/ name only metrics that server exposes.
 */
@SuppressWarnings("unchecked")
class MetricsTest {
  private final TestServer s = SharedServer.get();

  /** Every sample of the scrape: {@code name{labels}} → value. */
  private Map<String, Double> scrape() {
    String body = s.on.await(() -> s.http.request(new RequestOptions().setHost("127.0.0.1").setPort(s.opsPort).setURI("/metrics"))
        .compose(r -> r.send()).compose(r -> r.body())).toString();
    Map<String, Double> samples = new TreeMap<>();
    for (String line : body.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) continue;
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return samples;
  }

  /** The sum of the samples of {@code name} whose labels include every {@code key="value"} given. */
  private static double value(Map<String, Double> samples, String name, String... labels) {
    double sum = 0;
    for (Map.Entry<String, Double> e : samples.entrySet()) {
      String k = e.getKey();
      int brace = k.indexOf('{');
      if (!(brace < 0 ? k : k.substring(0, brace)).equals(name)) continue;
      boolean all = true;
      for (String l : labels) all &= k.contains(l);
      if (all) sum += e.getValue();
    }
    return sum;
  }

  private static Set<String> names(Map<String, Double> samples) {
    Set<String> names = new TreeSet<>();
    for (String k : samples.keySet()) names.add(k.indexOf('{') < 0 ? k : k.substring(0, k.indexOf('{')));
    return names;
  }

  /** Traffic touching every meter: subscribe (with recovery), publish, history, presence, a server disconnect. */
  private void traffic() {
    String channel = "chat:metrics-" + Ids.hex(4);
    try (WsClient a = s.connect(s.token("metrics-a", TestServer.allGrants()));
        WsClient b = s.connect(s.token("metrics-b", TestServer.allGrants()))) {
      a.subscribe(channel);
      b.subscribe(channel);
      a.event(channel, "presence.join");
      JsonObject pub = a.result("publish", new JsonObject().put("channel", channel).put("event", "e").put("data", 1));
      b.event(channel, "e");
      b.result("history", new JsonObject().put("channel", channel));
      b.result("presence", new JsonObject().put("channel", channel));
      // recovery: from the stored position (recovered), from a wrong epoch (not recovered)
      b.unsubscribe(channel);
      JsonObject yes = b.subscribe(new JsonObject().put("channel", channel)
          .put("recover", new JsonObject().put("offset", 0).put("epoch", pub.getString("epoch"))));
      assertTrue(yes.encode().contains("\"recovered\":true"), yes.encode());
      b.unsubscribe(channel);
      JsonObject no = b.subscribe(new JsonObject().put("channel", channel)
          .put("recover", new JsonObject().put("offset", 0).put("epoch", "not-the-epoch")));
      assertTrue(no.encode().contains("\"recovered\":false"), no.encode());
      // a server disconnect: an operator's, by connection id
      s.sb.vertx().eventBus().publish(Addresses.GATEWAY_DISCONNECT,
          new JsonObject().put("connection", b.connectResult.getString("client")).put("by", "MetricsTest"));
      assertEquals(CloseCode.FORBIDDEN, b.awaitClose());
    }
  }

  @Test
  void centrifugoStyleNamesAndLabelsAfterTraffic() {
    Map<String, Double> before = scrape();
    traffic();
    Await.until("the closed sessions leave the client gauge", () -> value(scrape(), "switchboard_node_num_clients")
        <= value(before, "switchboard_node_num_clients"));
    Map<String, Double> after = scrape();
    List<String> failures = new ArrayList<>();
    check(failures, before, after, "switchboard_messages_sent_total", "type=\"publication\"");
    check(failures, before, after, "switchboard_messages_sent_total", "type=\"join\"");
    check(failures, before, after, "switchboard_deliveries_total");
    check(failures, before, after, "switchboard_publishes_total");
    for (String method : List.of("subscribe", "publish", "history", "presence")) {
      check(failures, before, after, "switchboard_client_command_duration_seconds_count", "method=\"" + method + "\"");
    }
    check(failures, before, after, "switchboard_client_command_duration_seconds_bucket", "method=\"publish\"", "le=\"+Inf\"");
    check(failures, before, after, "switchboard_client_recover_total", "recovered=\"yes\"");
    check(failures, before, after, "switchboard_client_recover_total", "recovered=\"no\"");
    check(failures, before, after, "switchboard_server_disconnects_total", "code=\"4003\"", "reason=\"terminated\"");
    check(failures, before, after, "switchboard_disconnects_total", "code=\"4003\"");
    check(failures, before, after, "switchboard_store_request_duration_seconds_count", "op=\"append\"");
    check(failures, before, after, "switchboard_store_request_duration_seconds_count", "op=\"position\"");
    check(failures, before, after, "switchboard_presence_request_duration_seconds_count", "op=\"join\"");
    check(failures, before, after, "switchboard_fanout_lag_seconds_count");
    assertTrue(failures.isEmpty(), "did not grow: " + failures);
    for (String gauge : List.of("switchboard_node_num_clients", "switchboard_node_num_users", "switchboard_node_num_subscriptions",
        "switchboard_node_num_channels", "switchboard_connections", "switchboard_client_queued_bytes",
        "switchboard_client_queued_bytes_max", "switchboard_webhook_queue_depth")) {
      assertTrue(after.keySet().stream().anyMatch(k -> k.equals(gauge) || k.startsWith(gauge + "{")), gauge + " missing");
    }
  }

  /** The gauges follow sessions and subscriptions as they come and go. */
  /** The gauges once sessions of earlier tests have finished closing: the same in three scrapes in a row. */
  private Map<String, Double> quiet() {
    List<String> gauges = List.of("switchboard_node_num_clients", "switchboard_node_num_users", "switchboard_node_num_subscriptions",
        "switchboard_node_num_channels");
    List<List<Double>> last = new ArrayList<>();
    Map<String, Double>[] latest = new Map[1];
    Await.until("quiet gauges", () -> {
      latest[0] = scrape();
      last.add(gauges.stream().map(g -> value(latest[0], g)).toList());
      if (last.size() > 3) last.remove(0);
      return last.size() == 3 && last.get(0).equals(last.get(1)) && last.get(1).equals(last.get(2));
    });
    return latest[0];
  }

  @Test
  void gaugesCountClientsUsersSubscriptionsAndChannels() {
    Map<String, Double> base = quiet();
    String subject = "metrics-gauge-" + Ids.hex(4);
    String ch1 = "task:metrics-g1-" + Ids.hex(4), ch2 = "task:metrics-g2-" + Ids.hex(4);
    try (WsClient a = s.connect(s.token(subject, TestServer.allGrants()));
        WsClient b = s.connect(s.token(subject, TestServer.allGrants()))) {
      a.subscribe(ch1, ch2);
      b.subscribe(ch1);
      // two sessions, one user; the personal channel user:<subject> is a subscription of each session too
      Await.until("gauges with two sessions of one subject", () -> {
        Map<String, Double> now = scrape();
        return delta(base, now, "switchboard_node_num_clients") == 2 && delta(base, now, "switchboard_node_num_users") == 1
            && delta(base, now, "switchboard_node_num_subscriptions") == 5 && delta(base, now, "switchboard_node_num_channels") == 3;
      });
    }
    Await.until("gauges back after both closed", () -> {
      Map<String, Double> now = scrape();
      return delta(base, now, "switchboard_node_num_clients") == 0 && delta(base, now, "switchboard_node_num_users") == 0
          && delta(base, now, "switchboard_node_num_subscriptions") == 0 && delta(base, now, "switchboard_node_num_channels") == 0;
    });
  }

  private static double delta(Map<String, Double> before, Map<String, Double> after, String name) {
    return value(after, name) - value(before, name);
  }

  private static void check(List<String> failures, Map<String, Double> before, Map<String, Double> after, String name, String... labels) {
    if (!(value(after, name, labels) > value(before, name, labels))) failures.add(name + List.of(labels));
  }

  // --- the dashboard and the alerts cannot rot ----------------------------------------------------------------

  /** Names of our exporters' families in PromQL (label names, functions and kube-state-metrics' are not ours). */
  private static final Pattern METRIC = Pattern.compile("\\b((?:switchboard|jvm|process|vertx)_[a-z0-9_]+)");

  static Set<String> referenced(String promql) {
    Set<String> out = new TreeSet<>();
    Matcher m = METRIC.matcher(promql);
    while (m.find()) out.add(m.group(1));
    return out;
  }

  @Test
  void dashboardAndAlertRulesNameOnlyExposedMetrics() throws Exception {
    Path root = DocsLinksTest.repositoryRoot();
    ObjectMapper json = new ObjectMapper();
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    Map<String, Set<String>> used = new TreeMap<>();
    JsonNode dashboard = json.readTree(root.resolve("deploy/monitoring/grafana-dashboard.json").toFile());
    List<String> exprs = new ArrayList<>();
    dashboard.findValues("expr").forEach(n -> exprs.add(n.asText()));
    dashboard.findValues("definition").forEach(n -> exprs.add(n.asText()));
    assertTrue(exprs.size() >= 20, "the dashboard's queries: " + exprs.size());
    for (String e : exprs) for (String n : referenced(e)) used.computeIfAbsent(n, k -> new TreeSet<>()).add("dashboard");
    JsonNode alerts = yaml.readTree(root.resolve("deploy/monitoring/alerts.yaml").toFile());
    JsonNode k8s = yaml.readTree(root.resolve("deploy/kubernetes/monitoring/alerts.yaml").toFile());
    assertEquals(alerts.get("groups").get(0), k8s.get("spec").get("groups").get(0),
        "the PrometheusRule's switchboard group is deploy/monitoring/alerts.yaml's");
    for (JsonNode rules : List.of(alerts.get("groups"), k8s.get("spec").get("groups"))) {
      for (JsonNode group : rules) {
        for (JsonNode rule : group.get("rules")) {
          for (String n : referenced(rule.get("expr").asText())) used.computeIfAbsent(n, k -> new TreeSet<>()).add(rule.get("alert").asText());
        }
      }
    }
    for (String n : List.of("switchboard_node_num_clients", "switchboard_client_command_duration_seconds_bucket",
        "switchboard_fanout_lag_seconds_bucket", "jvm_memory_used_bytes")) {
      assertTrue(used.containsKey(n), n + " is charted or alerted on");
    }

    traffic();
    System.gc(); // the GC pause timer exists once a collection happened
    try {
      Await.until("a scrape with every referenced metric", () -> names(scrape()).containsAll(used.keySet()));
    } catch (AssertionError e) {
      // reported below, by name
    }
    Set<String> exposed = names(scrape());
    Map<String, Set<String>> missing = new TreeMap<>(used);
    missing.keySet().removeAll(exposed);
    assertTrue(missing.isEmpty(), "named in deploy/monitoring but not exposed: " + missing);
    assertFalse(exposed.isEmpty());
  }

}
