package io.switchboard.presence;

import static io.switchboard.presence.PresenceScripts.ALIVE;
import static io.switchboard.presence.PresenceScripts.CLAIM;
import static io.switchboard.presence.PresenceScripts.CLIENT_JOIN;
import static io.switchboard.presence.PresenceScripts.CLIENT_LEAVE;
import static io.switchboard.presence.PresenceScripts.MEMBERS;
import static io.switchboard.presence.PresenceScripts.MEMBER_JOIN;
import static io.switchboard.presence.PresenceScripts.MEMBER_REMOVE;
import static io.switchboard.presence.PresenceScripts.MEMBER_SET_STATE;
import static io.switchboard.presence.PresenceScripts.REFRESH;

import io.switchboard.common.RedisConnector;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Presence in Redis (engine {@code redis}), shared by every presence-service instance of the cluster. Layout and
 * scripts: {@link PresenceScripts}.
 *
 * <ul>
 *   <li>Deadlines: one sorted set, client → deadline millis. A node's refresh is one script call per 5000 clients,
 *       all sent at once: one round trip.
 *   <li>Sweeping: {@link PresenceScripts#CLAIM} removes expired clients from the sorted set atomically, so of any
 *       number of sweepers exactly one gets each client; the winner then removes its members channel by channel.
 *       A member is only reported by whoever actually deletes it (sweep or leave), hence each departure is
 *       announced once.
 *   <li>Order of writes: a join writes the client side before its members and a leave removes members before the
 *       client side, so a member never exists without a deadline except after a crash in between; such leftovers
 *       are hidden from {@link #members} and expire with the channel key.
 *   <li>TTLs: every key lives {@code keyTtlMs} (≥ 4 timeouts, at least an hour) past its last extension; a
 *       client's channel keys are extended at least every {@code keyTtlMs/2} by its refreshes, so live members never
 *       expire and nothing abandoned (all services gone, crashes) stays forever.
 * </ul>
 */
public final class RedisPresenceStore implements PresenceStore {
  static final String PREFIX = "sb:presence:";
  static final String DEADLINES = PREFIX + "{clients}:deadlines";
  static final String CLIENT_PREFIX = PREFIX + "{clients}:client:";
  static final String TOUCH_FIELD = "$t";
  static final int DEFAULT_SWEEP_BATCH = 500;
  static final int REFRESH_CHUNK = 5000;

  private final RedisConnector redis;
  private final long keyTtlMs;
  private final int sweepBatch;
  private final LongSupplier clock;

  public RedisPresenceStore(RedisConnector redis, long timeoutMs) {
    this(redis, keyTtl(timeoutMs), DEFAULT_SWEEP_BATCH, System::currentTimeMillis);
  }

  /**
   * @param sweepBatch clients claimed per script call: bounds how long one sweep blocks Redis
   * @param clock decides when TTLs are due for extension (tests move it)
   */
  RedisPresenceStore(RedisConnector redis, long keyTtlMs, int sweepBatch, LongSupplier clock) {
    this.redis = redis;
    this.keyTtlMs = keyTtlMs;
    this.sweepBatch = sweepBatch;
    this.clock = clock;
  }

  static long keyTtl(long timeoutMs) {
    return Math.max(4 * timeoutMs, 3_600_000L);
  }

  static String channelKey(String channel) {
    return PREFIX + "{" + channel + "}:members";
  }

  static String clientKey(String client) {
    return CLIENT_PREFIX + client;
  }

  @Override
  public Future<List<PresenceMember>> join(PresenceJoin join, long deadline) {
    List<String> args = new ArrayList<>(List.of(join.client(), Long.toString(deadline), nextTouch(), ttl()));
    args.addAll(join.channels());
    String memberJson = new JsonObject()
        .put("subject", join.subject())
        .put("info", join.info())
        .put("joinedAt", join.at())
        .put("node", join.node())
        .encode();
    return CLIENT_JOIN.run(redis, List.of(DEADLINES, clientKey(join.client())), args)
        .compose(done -> each(join.channels(), channel ->
            MEMBER_JOIN.run(redis, List.of(channelKey(channel)), List.of(join.client(), memberJson, ttl(), join.subject()))
                .map(n -> n.get(0).toInteger() > 0 ? join.memberOf(channel).withCounts(n.get(0).toInteger(), n.get(1).toInteger()) : null)));
  }

  @Override
  public Future<List<PresenceMember>> leave(String client, List<String> channels) {
    Future<List<String>> leaving = channels != null
        ? Future.succeededFuture(channels)
        : redis.send(Request.cmd(Command.HKEYS).arg(clientKey(client))).map(RedisPresenceStore::channelFields);
    return leaving.compose(list -> {
      if (list.isEmpty()) return Future.succeededFuture(List.of());
      List<String> args = new ArrayList<>(List.of(client));
      args.addAll(list);
      return each(list, channel -> removeMember(channel, client))
          .compose(removed -> CLIENT_LEAVE.run(redis, List.of(DEADLINES, clientKey(client)), args).map(removed));
    });
  }

  @Override
  public Future<Void> refresh(String node, List<String> clients, long deadline) {
    List<Future<Response>> chunks = new ArrayList<>();
    for (int from = 0; from < clients.size(); from += REFRESH_CHUNK) {
      List<String> args = new ArrayList<>(List.of(
          Long.toString(deadline), Long.toString(clock.getAsLong()), nextTouch(), ttl(), CLIENT_PREFIX));
      args.addAll(clients.subList(from, Math.min(clients.size(), from + REFRESH_CHUNK)));
      chunks.add(REFRESH.run(redis, List.of(DEADLINES), args));
    }
    return Future.all(chunks).compose(all -> {
      List<String> due = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) for (Response channel : all.<Response>resultAt(i)) due.add(channel.toString());
      return each(due.stream().distinct().toList(), channel ->
          redis.send(Request.cmd(Command.PEXPIRE).arg(channelKey(channel)).arg(keyTtlMs)));
    }).mapEmpty();
  }

  @Override
  public Future<List<PresenceMember>> members(String channel) {
    return MEMBERS.run(redis, List.of(channelKey(channel)), List.of()).compose(fields -> {
      Map<String, String> memberJson = new LinkedHashMap<>();
      Map<String, String> stateJson = new LinkedHashMap<>();
      for (int i = 0; i + 1 < fields.size(); i += 2) {
        String field = fields.get(i).toString();
        if (field.startsWith("m:")) memberJson.put(field.substring(2), fields.get(i + 1).toString());
        else if (field.startsWith("s:")) stateJson.put(field.substring(2), fields.get(i + 1).toString());
      }
      if (memberJson.isEmpty()) return Future.succeededFuture(List.of());
      List<String> clients = new ArrayList<>(memberJson.keySet());
      return ALIVE.run(redis, List.of(DEADLINES), clients).map(alive -> {
        List<PresenceMember> members = new ArrayList<>();
        for (int i = 0; i < clients.size(); i++) {
          if (alive.get(i).toInteger() != 1) continue; // left behind by a crash mid-sweep: not present
          String client = clients.get(i);
          members.add(member(channel, client, memberJson.get(client), stateJson.get(client)));
        }
        members.sort(Comparator.comparingLong(PresenceMember::joinedAt).thenComparing(PresenceMember::client));
        return members;
      });
    });
  }

  @Override
  public Future<PresenceMember> setState(String channel, String client, JsonObject state) {
    String json = state.encode();
    return MEMBER_SET_STATE.run(redis, List.of(channelKey(channel)), List.of(client, json, ttl())).compose(member ->
        member == null
            ? Future.failedFuture(MemoryPresenceStore.notMember(channel, client))
            : Future.succeededFuture(member(channel, client, member.toString(), json)));
  }

  @Override
  public Future<List<PresenceMember>> sweep(long now) {
    return sweepFrom(now, new ArrayList<>());
  }

  /** Claims batches until one comes back short: everything expired at {@code now} is then handled. */
  private Future<List<PresenceMember>> sweepFrom(long now, List<PresenceMember> swept) {
    return CLAIM.run(redis, List.of(DEADLINES), List.of(Long.toString(now), Integer.toString(sweepBatch), CLIENT_PREFIX))
        .compose(claimed -> {
          List<String[]> pairs = new ArrayList<>();
          for (int i = 0; i + 1 < claimed.size(); i += 2) {
            String client = claimed.get(i).toString();
            for (String channel : channelFields(claimed.get(i + 1))) pairs.add(new String[] {client, channel});
          }
          int clients = claimed.size() / 2;
          return eachPair(pairs).compose(removed -> {
            swept.addAll(removed);
            return clients < sweepBatch ? Future.succeededFuture(swept) : sweepFrom(now, swept);
          });
        });
  }

  private Future<List<PresenceMember>> eachPair(List<String[]> pairs) {
    List<Future<PresenceMember>> removals = new ArrayList<>(pairs.size());
    for (String[] p : pairs) removals.add(removeMember(p[1], p[0]));
    return collect(removals);
  }

  @Override
  public Future<Void> close() {
    redis.close();
    return Future.succeededFuture();
  }

  /** Deletes one member; null when it was not there (someone else removed it first). */
  private Future<PresenceMember> removeMember(String channel, String client) {
    return MEMBER_REMOVE.run(redis, List.of(channelKey(channel)), List.of(client)).map(r -> {
      if (r == null || r.size() < 4) return null;
      return member(channel, client, r.get(0).toString(), r.get(1).toString()).withCounts(r.get(2).toInteger(), r.get(3).toInteger());
    });
  }

  private static PresenceMember member(String channel, String client, String memberJson, String stateJson) {
    JsonObject m = new JsonObject(memberJson);
    JsonObject state = stateJson == null || stateJson.isEmpty() ? new JsonObject() : new JsonObject(stateJson);
    return new PresenceMember(channel, client, m.getString("subject"), m.getJsonObject("info"), state,
        m.getLong("joinedAt", 0L), m.getString("node"));
  }

  /** The channel names of a client hash's field list (without the touch field). */
  private static List<String> channelFields(Response fields) {
    List<String> channels = new ArrayList<>();
    if (fields == null) return channels;
    for (Response f : fields) {
      String name = f.toString();
      if (!name.equals(TOUCH_FIELD)) channels.add(name);
    }
    return channels;
  }

  /** Runs {@code op} for every item at once; the non-null results, in item order. */
  private static <T> Future<List<T>> each(List<String> items, Function<String, Future<T>> op) {
    List<Future<T>> futures = new ArrayList<>(items.size());
    for (String item : items) futures.add(op.apply(item));
    return collect(futures);
  }

  private static <T> Future<List<T>> collect(List<Future<T>> futures) {
    return Future.all(futures).map(all -> {
      List<T> out = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        T value = all.resultAt(i);
        if (value != null) out.add(value);
      }
      return out;
    });
  }

  private String nextTouch() {
    return Long.toString(clock.getAsLong() + keyTtlMs / 2);
  }

  private String ttl() {
    return Long.toString(keyTtlMs);
  }
}
