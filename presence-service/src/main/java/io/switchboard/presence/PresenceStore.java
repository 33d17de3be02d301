package io.switchboard.presence;

import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Who is present in which channel, and until when each client stays alive without a refresh.
 *
 * <p>A client has ONE deadline, shared by all its channels: a gateway refreshes all of its clients in one call, and
 * a client whose deadline passes is removed from every channel by {@link #sweep}. Every member is handed out by
 * exactly one of {@link #leave} or {@link #sweep}, even with several sweepers on the same storage, so each departure
 * is announced once. Failures of the storage are {@link io.switchboard.common.ServiceError}s {@code unavailable}.
 */
public interface PresenceStore {

  /**
   * Adds the client to the join's channels and sets its deadline.
   *
   * @return the members that are new; a channel the client is already in keeps its member (and joinedAt, state)
   */
  Future<List<PresenceMember>> join(PresenceJoin join, long deadline);

  /**
   * Removes the client from {@code channels}, or from all its channels when {@code channels} is null. Unknown
   * clients and channels are ignored.
   *
   * @return the members removed, with their last state
   */
  Future<List<PresenceMember>> leave(String client, List<String> channels);

  /**
   * Moves the deadline of every listed client that is still present to {@code deadline}. Clients that are not
   * present (never joined, left, or already swept) stay absent: a refresh never brings a member back.
   */
  Future<Void> refresh(String node, List<String> clients, long deadline);

  /** The members of a channel, oldest join first. */
  Future<List<PresenceMember>> members(String channel);

  /**
   * Replaces the client's state in the channel.
   *
   * @return the updated member; fails with {@code not_subscribed} when the client is not a member of the channel
   */
  Future<PresenceMember> setState(String channel, String client, JsonObject state);

  /**
   * Claims and removes every client whose deadline is at or before {@code now}, from all its channels.
   *
   * @return the members removed; a member is returned by exactly one sweep, however many run concurrently
   */
  Future<List<PresenceMember>> sweep(long now);

  Future<Void> close();

  /** The engine named by the config's {@code engine}: the JVM-wide memory store, or Redis. */
  static PresenceStore create(Vertx vertx, JsonObject config) {
    if ("redis".equals(config.getString("engine"))) {
      long timeoutMs = config.getJsonObject("presence").getLong("timeoutSeconds") * 1000;
      return new RedisPresenceStore(RedisConnector.create(vertx, config.getJsonObject("redis")), timeoutMs);
    }
    return MemoryPresenceStore.shared(vertx);
  }
}
