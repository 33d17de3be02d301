package io.switchboard.gateway.core;

import io.switchboard.common.Addresses;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cluster-wide subscriber counts (sessions) per channel: every live gateway node with subscribers answers for its own
 * at {@code gateway.counts.<node>}, and the answers are summed. A node that does not answer in time is left out (the
 * counts are a snapshot, never a reason to fail the caller).
 */
public final class ChannelStats {
  private final GatewayLoop loop;

  ChannelStats(GatewayLoop loop) {
    this.loop = loop;
  }

  /** Subscribers of the given scoped channels (absent = none), or of every channel starting with {@code prefix}. */
  public Future<Map<String, Integer>> subscribers(List<String> channels, String prefix) {
    JsonObject q = channels != null ? new JsonObject().put("channels", new JsonArray(channels)) : new JsonObject().put("prefix", prefix);
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(Math.min(2000, loop.cfg.requestTimeoutMs()));
    List<Future<JsonObject>> answers = new ArrayList<>();
    for (String node : loop.fanout.gatewayNodes()) {
      answers.add(loop.bus.<JsonObject>request(Addresses.gatewayCounts(node), q, opts).map(m -> m.body())
          .otherwise(new JsonObject()));
    }
    return Future.all(answers).map(v -> {
      Map<String, Integer> sum = new HashMap<>();
      for (Future<JsonObject> f : answers) {
        JsonObject c = f.result().getJsonObject("channels", new JsonObject());
        for (String k : c.fieldNames()) sum.merge(k, c.getInteger(k), Integer::sum);
      }
      return sum;
    });
  }
}
