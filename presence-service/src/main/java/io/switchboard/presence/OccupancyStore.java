package io.switchboard.presence;

import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Which gateway nodes have subscribers of which channel (for apps with occupancy webhooks), and which nodes are alive.
 * A channel is occupied while at least one node occupies it; the store applies every change atomically per channel and
 * reports the cluster-wide transitions, so {@code channel_occupied}/{@code channel_vacated} are computed exactly once
 * however many gateways share a channel and however many presence services apply changes.
 *
 * <p>Ordering: a node numbers its changes ({@code seq}); per channel the store keeps each node's last seq and ignores
 * an older change that arrives late (two presence services may apply a node's changes concurrently). Node death: a
 * node's changes and heartbeats set its deadline; {@link #sweep} claims nodes past it (one sweeper wins each) and
 * removes them from every channel they occupied. A swept node that comes back is told so by {@link #alive}, and then
 * re-announces its channels.
 */
interface OccupancyStore {

  /** The change made the channel occupied cluster-wide. */
  int OCCUPIED = 1;
  /** The change made the channel vacated cluster-wide. */
  int VACATED = -1;

  /**
   * Applies a node's change of one channel and moves the node's deadline.
   *
   * @return {@link #OCCUPIED}, {@link #VACATED} or 0 (no cluster-wide transition, or an outdated change)
   */
  Future<Integer> change(String node, long seq, String channel, boolean occupied, long nodeDeadline);

  /** Moves the node's deadline; false when the node had been swept (it must re-announce its channels). */
  Future<Boolean> alive(String node, long deadline);

  /** Claims the nodes whose deadline passed and removes them from their channels; the channels this vacated. */
  Future<List<String>> sweep(long now);

  Future<Void> close();

  static OccupancyStore create(Vertx vertx, JsonObject config) {
    if ("redis".equals(config.getString("engine"))) {
      return new RedisOccupancyStore(RedisConnector.create(vertx, config.getJsonObject("redis")));
    }
    return MemoryOccupancyStore.shared(vertx);
  }
}
