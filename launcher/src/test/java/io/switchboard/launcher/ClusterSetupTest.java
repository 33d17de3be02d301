package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import io.switchboard.common.ConfigException;
import io.switchboard.common.Defaults;
import io.vertx.core.json.JsonObject;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Hazelcast configuration cluster mode builds, and what the launcher refuses. */
class ClusterSetupTest {
  private static JsonObject cluster() {
    return Defaults.tree().getJsonObject("cluster");
  }

  @Test
  void tcpIpJoinOverTheMemberListWithRangesExpanded() {
    JsonObject c = cluster().put("host", "127.0.0.1").put("members", "127.0.0.1:5701-5703, 10.0.0.9:5701");
    assertEquals(List.of("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703", "10.0.0.9:5701"), ClusterSetup.members(c));
    Config hz = ClusterSetup.hazelcast(c);
    var join = hz.getNetworkConfig().getJoin();
    assertTrue(join.getTcpIpConfig().isEnabled());
    assertFalse(join.getMulticastConfig().isEnabled());
    assertFalse(join.getAutoDetectionConfig().isEnabled());
    assertEquals(4, join.getTcpIpConfig().getMembers().size());
    assertTrue(hz.getNetworkConfig().getInterfaces().getInterfaces().contains("127.0.0.1"));
    assertEquals("127.0.0.1", ClusterSetup.eventBus(c).getHost());
  }

  @Test
  void defaultMembersAreTenPortsOnLoopback() {
    assertEquals(10, ClusterSetup.members(cluster()).size());
    assertEquals("127.0.0.1:5701", ClusterSetup.members(cluster()).get(0));
  }

  @Test
  void kubernetesDnsDiscoveryReplacesTheMemberList() {
    JsonObject c = cluster().put("kubernetesServiceDns", "switchboard-hz.default.svc.cluster.local");
    var join = ClusterSetup.hazelcast(c).getNetworkConfig().getJoin();
    assertTrue(join.getKubernetesConfig().isEnabled());
    assertEquals("switchboard-hz.default.svc.cluster.local", join.getKubernetesConfig().getProperty("service-dns"));
    assertEquals("5701", join.getKubernetesConfig().getProperty("service-port"));
    assertFalse(join.getTcpIpConfig().isEnabled());
  }

  @Test
  void kubernetesDnsDiscoveryDialsTheConfiguredClusterPort() {
    // the real discovery through a DNS name, with the cluster overlay's pods: deploy/kubernetes KubernetesClusterTest
    JsonObject c = cluster().put("kubernetesServiceDns", "switchboard-hazelcast").put("port", 6100).put("host", "10.0.0.7");
    Config hz = ClusterSetup.hazelcast(c);
    assertEquals("6100", hz.getNetworkConfig().getJoin().getKubernetesConfig().getProperty("service-port"));
    assertEquals(6100, hz.getNetworkConfig().getPort());
    assertTrue(hz.getNetworkConfig().getInterfaces().getInterfaces().contains("10.0.0.7"), "binds and advertises the pod IP");
  }

  @Test
  void badPortRangeNamesTheKey() {
    assertEquals("cluster.members", assertThrows(ConfigException.class,
        () -> ClusterSetup.members(cluster().put("members", "127.0.0.1:5710-5701"))).key());
  }

  @Test
  void clusterModeRefusesTheMemoryEngineAndAMissingAdminKey() {
    JsonObject memory = io.switchboard.common.Config.of(new JsonObject());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Switchboard.start(memory, EnumSet.allOf(Service.class), true));
    assertTrue(e.getMessage().contains("redis engine"), e.getMessage());
    JsonObject noKey = io.switchboard.common.Config.of(new JsonObject().put("engine", "redis"));
    e = assertThrows(IllegalArgumentException.class, () -> Switchboard.start(noKey, EnumSet.of(Service.AUTH), true));
    assertTrue(e.getMessage().contains("admin key"), e.getMessage());
  }
}
