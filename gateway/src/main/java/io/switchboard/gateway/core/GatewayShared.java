package io.switchboard.gateway.core;

import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import java.util.function.Supplier;

/**
 * State shared by the event loops of ONE gateway (a PubNub client's session registry, the node's held-poll count).
 * Never static: several gateways may run in one JVM (tests do), and each must see only its own. Kept in the Vert.x
 * instance's local shared data under the gateway's node id, which is unique per gateway.
 */
public final class GatewayShared {
  private GatewayShared() {}

  private record Holder(Object value) implements Shareable {}

  /** The gateway's one instance of {@code name}, created by the first event loop that asks. */
  @SuppressWarnings("unchecked")
  public static <T> T of(GatewayLoop loop, String name, Supplier<T> create) {
    LocalMap<String, Holder> map = loop.vertx.sharedData().getLocalMap("switchboard.gateway." + name);
    synchronized (GatewayShared.class) {
      Holder h = map.get(loop.node);
      if (h == null) {
        h = new Holder(create.get());
        map.put(loop.node, h);
      }
      return (T) h.value();
    }
  }
}
