package io.switchboard.launcher;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.switchboard.common.ConfigException;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Hazelcast membership for cluster mode, from the {@code cluster} config section: TCP-IP join over a member list
 * (local runs, loopback), or Kubernetes DNS discovery through a headless Service. Multicast and auto-detection are
 * off: a cluster only ever contains the members it was told about.
 *
 * <p>The event bus advertises {@code cluster.host} when set; the classic failure is a node advertising localhost
 * to others, which joins fine and then times out every send — on Kubernetes set it to the pod IP.
 */
final class ClusterSetup {
  private ClusterSetup() {}

  static Config hazelcast(JsonObject cluster) {
    String host = cluster.getString("host");
    int port = cluster.getInteger("port");
    Config cfg = new Config().setClusterName(cluster.getString("name"));
    cfg.setProperty("hazelcast.phone.home.enabled", "false");
    cfg.setProperty("hazelcast.logging.type", "slf4j");
    // a killed member must leave the member list in seconds, not the default minute: its presence and routes go (a
    // killed JVM's refused socket removes it at once; the timeout is for a silent one). 8 s was too tight: while the
    // members removed a frozen one, a healthy member's heartbeats stalled for ~9 s and the master dropped it too
    // (docs/reliability.md, "A member dropped without a pause")
    cfg.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    cfg.setProperty("hazelcast.max.no.heartbeat.seconds", "15");
    // a member frozen longer than that (GC pause, stopped VM, SIGSTOP) is removed and, when it runs again, is a
    // cluster of its own: its gateway serves clients from an island. Hazelcast's split-brain merge brings it back,
    // by default only 300 s after start and then every 120 s; check every 5 s instead (a cheap join probe)
    cfg.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    cfg.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    NetworkConfig net = cfg.getNetworkConfig();
    net.setPort(port).setPortAutoIncrement(true).setPortCount(20);
    if (!host.isEmpty()) {
      cfg.setProperty("hazelcast.socket.bind.any", "false");
      net.getInterfaces().setEnabled(true).addInterface(host);
    }
    JoinConfig join = net.getJoin();
    join.getAutoDetectionConfig().setEnabled(false);
    join.getMulticastConfig().setEnabled(false);
    String dns = cluster.getString("kubernetesServiceDns");
    if (!dns.isEmpty()) {
      // service-port: without it the DNS discovery dials every address on 5701, whatever cluster.port says
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", dns).setProperty("service-port", Integer.toString(port));
    } else {
      join.getTcpIpConfig().setEnabled(true);
      for (String m : members(cluster)) join.getTcpIpConfig().addMember(m);
    }
    // the maps Vert.x keeps in Hazelcast, with one backup so a lost member loses no registration
    cfg.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    cfg.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    cfg.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return cfg;
  }

  /** {@code cluster.members}, or ten ports from {@code cluster.port} on the cluster host (loopback by default). */
  static List<String> members(JsonObject cluster) {
    String list = cluster.getString("members").trim();
    List<String> out = new ArrayList<>();
    if (list.isEmpty()) {
      String host = cluster.getString("host").isEmpty() ? "127.0.0.1" : cluster.getString("host");
      int port = cluster.getInteger("port");
      for (int p = port; p < port + 10; p++) out.add(host + ":" + p);
      return out;
    }
    for (String m : list.split(",")) {
      String member = m.trim();
      if (member.isEmpty()) continue;
      if (member.matches(".*:\\d+-\\d+")) {
        // Hazelcast cannot parse port ranges in member strings: expand them here
        String hostPart = member.substring(0, member.lastIndexOf(':'));
        String[] range = member.substring(member.lastIndexOf(':') + 1).split("-");
        int from = Integer.parseInt(range[0]);
        int to = Integer.parseInt(range[1]);
        if (to < from || to - from > 100) throw new ConfigException("cluster.members", "has a bad port range in '" + member + "'");
        for (int p = from; p <= to; p++) out.add(hostPart + ":" + p);
      } else {
        out.add(member);
      }
    }
    return out;
  }

  static EventBusOptions eventBus(JsonObject cluster) {
    EventBusOptions o = new EventBusOptions().setPort(cluster.getInteger("eventBusPort"));
    String host = cluster.getString("host");
    if (!host.isEmpty()) o.setHost(host);
    return o;
  }
}
