package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.Config;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.Publication;
import io.switchboard.common.PublicationCodec;
import io.switchboard.common.ServiceError;
import io.switchboard.common.test.Await;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The presence service over the real event bus, as a gateway uses it: joins, leaves and refreshes in, presence
 * events out on the fanout address. Presence times out after 1 s here; a test-side "gateway" refreshes the clients
 * registered with {@link #keepAlive} every 200 ms, as a real gateway node would.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PresenceVerticleTest {
  protected Vertx vertx;
  protected final List<Publication> events = new CopyOnWriteArrayList<>();
  private final Set<String> alive = ConcurrentHashMap.newKeySet();
  private final String id = Ids.hex(8);
  private int counter;

  /** Engine settings layered over the common test config. */
  protected JsonObject engine() {
    return new JsonObject().put("engine", "memory");
  }

  protected JsonObject config() {
    return Config.of(new JsonObject()
        .put("presence", new JsonObject().put("timeoutSeconds", 1).put("sweepIntervalMs", 25))
        .put("channels", new JsonObject().put("strictNamespaces", true).put("namespaces", new JsonObject()
            .put("room", new JsonObject())
            .put("quiet", new JsonObject().put("joinLeave", false))
            .put("nopres", new JsonObject().put("presence", false))))
        .mergeIn(engine()));
  }

  @BeforeAll
  void deploy() {
    vertx = Vertx.vertx();
    PublicationCodec.register(vertx.eventBus());
    vertx.eventBus().<Publication>consumer(Addresses.gatewayNode("probe"), m -> events.add(m.body()));
    io.switchboard.common.Fanout.of(vertx).addInterest("probe", io.switchboard.common.Fanout.ALL_CHANNELS);
    Await.result(vertx.deployVerticle(new PresenceVerticle(), new DeploymentOptions().setConfig(config())));
    vertx.setPeriodic(200, t -> {
      if (!alive.isEmpty()) {
        vertx.eventBus().send(Addresses.PRESENCE_REFRESH,
            new JsonObject().put("node", "test-node").put("clients", new JsonArray(List.copyOf(alive))));
      }
    });
  }

  @AfterAll
  void close() {
    Await.result(vertx.close());
  }

  protected String unique(String prefix) {
    return prefix + id + "-" + (++counter);
  }

  protected String keepAlive(String client) {
    alive.add(client);
    return client;
  }

  protected JsonObject joinBody(String client, String... channels) {
    return new JsonObject().put("client", client).put("subject", "u-" + client).put("node", "test-node")
        .put("info", new JsonObject().put("name", "N" + client)).put("channels", new JsonArray(List.of(channels)));
  }

  protected JsonObject request(String address, Object body) {
    return Await.result(vertx.eventBus().<JsonObject>request(address, body)).body();
  }

  protected ServiceError failure(String address, Object body) {
    return ServiceError.from(Await.failure(vertx.eventBus().request(address, body)), address);
  }

  protected List<Publication> events(String channel, String event) {
    return events.stream().filter(p -> p.channel().equals(channel) && p.event().equals(event)).toList();
  }

  protected Publication awaitEvent(String channel, String event) {
    Await.until(event + " on " + channel, () -> !events(channel, event).isEmpty());
    return events(channel, event).get(0);
  }

  protected JsonArray members(String channel) {
    return request(Addresses.PRESENCE_QUERY, new JsonObject().put("channel", channel)).getJsonArray("members");
  }

  @Test
  void joinIsAnnouncedAndListed() {
    String client = keepAlive(unique("c")), channel = unique("room:");
    long before = System.currentTimeMillis();
    assertEquals(new JsonObject(), request(Addresses.PRESENCE_JOIN, joinBody(client, channel)));

    Publication join = awaitEvent(channel, "presence.join");
    JsonObject identity = new JsonObject().put("client", client).put("subject", "u-" + client)
        .put("info", new JsonObject().put("name", "N" + client));
    // users: the distinct subjects in the channel after the join (PubNub's occupancy)
    assertEquals(identity.copy().put("subjectClients", 1).put("users", 1), join.data());
    assertFalse(join.stored());

    JsonObject member = members(channel).getJsonObject(0);
    assertEquals(identity.copy().put("state", new JsonObject()), without(member, "joinedAt"));
    long joinedAt = Instant.parse(member.getString("joinedAt")).toEpochMilli();
    assertTrue(joinedAt >= before && joinedAt <= System.currentTimeMillis(), "joinedAt is the join time");
  }

  private static JsonObject without(JsonObject json, String key) {
    JsonObject copy = json.copy();
    copy.remove(key);
    return copy;
  }

  @Test
  void joinLeaveOffKeepsMembersButAnnouncesNothing() {
    String client = keepAlive(unique("c")), quiet = unique("quiet:"), loud = unique("room:");
    vertx.eventBus().send(Addresses.PRESENCE_JOIN, joinBody(client, quiet));
    vertx.eventBus().send(Addresses.PRESENCE_JOIN, joinBody(client, loud));
    awaitEvent(loud, "presence.join"); // handled in order: the quiet join is done by now
    assertEquals(List.of(), events.stream().filter(p -> p.channel().equals(quiet)).toList());
    assertEquals(1, members(quiet).size());

    request(Addresses.PRESENCE_LEAVE, new JsonObject().put("client", client).put("channels", new JsonArray().add(quiet)));
    request(Addresses.PRESENCE_LEAVE, new JsonObject().put("client", client).put("channels", new JsonArray().add(loud)));
    awaitEvent(loud, "presence.leave");
    assertEquals(List.of(), events.stream().filter(p -> p.channel().equals(quiet)).toList());
    assertEquals(0, members(quiet).size());
  }

  @Test
  void presenceOffNamespaceIsNotKept() {
    String client = keepAlive(unique("c")), off = unique("nopres:");
    assertEquals(new JsonObject(), request(Addresses.PRESENCE_JOIN, joinBody(client, off)));
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.PRESENCE_QUERY, new JsonObject().put("channel", off)).code());
    ServiceError state = failure(Addresses.PRESENCE_SET_STATE,
        new JsonObject().put("channel", off).put("client", client).put("state", new JsonObject()));
    assertEquals(ErrorCode.BAD_REQUEST, state.code());
    assertTrue(state.getMessage().contains("presence is off"), state.getMessage());
  }

  @Test
  void unknownNamespaceIsNotKept() {
    String client = keepAlive(unique("c")), unknown = unique("nowhere:");
    assertEquals(new JsonObject(), request(Addresses.PRESENCE_JOIN, joinBody(client, unknown)));
    ServiceError query = failure(Addresses.PRESENCE_QUERY, new JsonObject().put("channel", unknown));
    assertEquals(ErrorCode.UNKNOWN_CHANNEL, query.code());
    assertTrue(query.getMessage().contains(unknown), query.getMessage());
  }

  @Test
  void leaveIsAnnouncedPerChannelAndDisconnectLeavesAll() {
    String client = keepAlive(unique("c")), other = keepAlive(unique("c")), a = unique("room:"), b = unique("room:");
    request(Addresses.PRESENCE_JOIN, joinBody(client, a, b));
    request(Addresses.PRESENCE_JOIN, joinBody(other, a));

    request(Addresses.PRESENCE_LEAVE, new JsonObject().put("client", client).put("channels", new JsonArray().add(a)));
    Publication leave = awaitEvent(a, "presence.leave");
    assertEquals(new JsonObject().put("client", client).put("subject", "u-" + client)
        .put("info", new JsonObject().put("name", "N" + client)).put("subjectClients", 0).put("users", 1), leave.data());
    assertEquals(List.of(other), names(members(a)));
    assertEquals(List.of(client), names(members(b)));

    vertx.eventBus().send(Addresses.PRESENCE_LEAVE, new JsonObject().put("client", client)); // disconnect: all
    awaitEvent(b, "presence.leave");
    assertEquals(List.of(), names(members(b)));
    assertEquals(1, events(a, "presence.leave").size());
  }

  @Test
  void joinThenImmediateLeaveLeavesNothing() {
    String client = keepAlive(unique("c")), a = unique("room:");
    vertx.eventBus().send(Addresses.PRESENCE_JOIN, joinBody(client, a));
    request(Addresses.PRESENCE_LEAVE, new JsonObject().put("client", client).put("channels", new JsonArray().add(a)));
    assertEquals(List.of(), names(members(a)));
  }

  @Test
  void unrefreshedClientTimesOutOnceWhileRefreshedOnesStay() {
    String dead = unique("dead"), live = keepAlive(unique("c")), a = unique("room:"), b = unique("room:");
    request(Addresses.PRESENCE_JOIN, joinBody(live, a));
    request(Addresses.PRESENCE_JOIN, joinBody(dead, a, b));

    awaitEvent(a, "presence.timeout");
    awaitEvent(b, "presence.timeout");
    Publication timeout = events(a, "presence.timeout").get(0);
    assertEquals(new JsonObject().put("client", dead).put("subject", "u-" + dead)
        .put("info", new JsonObject().put("name", "N" + dead)).put("subjectClients", 0).put("users", 1), timeout.data());
    assertEquals(List.of(live), names(members(a)), "the refreshed client outlives the timeout");
    assertEquals(List.of(), names(members(b)));

    // another timeout, later: by then any duplicate of the first would have been announced
    String later = unique("dead"), c = unique("room:");
    request(Addresses.PRESENCE_JOIN, joinBody(later, c));
    awaitEvent(c, "presence.timeout");
    assertEquals(1, events(a, "presence.timeout").size());
    assertEquals(1, events(b, "presence.timeout").size());
    assertEquals(List.of(live), names(members(a)));
  }

  @Test
  void setStateIsAnnouncedAndListed() {
    String client = keepAlive(unique("c")), quiet = unique("quiet:");
    request(Addresses.PRESENCE_JOIN, joinBody(client, quiet));
    JsonObject state = new JsonObject().put("typing", true);
    assertEquals(new JsonObject(), request(Addresses.PRESENCE_SET_STATE,
        new JsonObject().put("channel", quiet).put("client", client).put("state", state)));
    Publication event = awaitEvent(quiet, "presence.state"); // state is announced even with joinLeave off
    assertEquals(new JsonObject().put("client", client).put("subject", "u-" + client).put("state", state), event.data());
    assertEquals(state, members(quiet).getJsonObject(0).getJsonObject("state"));

    ServiceError stranger = failure(Addresses.PRESENCE_SET_STATE,
        new JsonObject().put("channel", quiet).put("client", unique("nobody")).put("state", state));
    assertEquals(ErrorCode.NOT_SUBSCRIBED, stranger.code());
    assertTrue(stranger.getMessage().contains(quiet), stranger.getMessage());
  }

  @Test
  void channelNamesAreCheckedAtAndPastTheLimit() {
    String longest = "room:" + "x".repeat(250);
    assertEquals(255, longest.length());
    assertEquals(new JsonArray(), members(longest));
    ServiceError tooLong = failure(Addresses.PRESENCE_QUERY, new JsonObject().put("channel", longest + "y"));
    assertEquals(ErrorCode.BAD_REQUEST, tooLong.code());
    assertTrue(tooLong.getMessage().contains("255"), tooLong.getMessage());
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.PRESENCE_QUERY, new JsonObject().put("channel", "a b")).code());

    String client = keepAlive(unique("c")), ok = unique("room:");
    ServiceError badJoin = failure(Addresses.PRESENCE_JOIN, joinBody(client, ok, "bad channel"));
    assertEquals(ErrorCode.BAD_REQUEST, badJoin.code());
    assertEquals(List.of(), names(members(ok)), "a join with one bad channel joins nothing");
  }

  @Test
  void malformedMessagesAreBadRequests() {
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.PRESENCE_JOIN, "not json").code());
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.PRESENCE_JOIN,
        new JsonObject().put("subject", "u").put("channels", new JsonArray().add("room:x"))).code());
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.PRESENCE_JOIN,
        joinBody("c", "room:x").put("info", "not an object")).code());
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.PRESENCE_JOIN, joinBody("c").put("channels", "room:x")).code());
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.PRESENCE_LEAVE, new JsonObject().put("client", 5)).code());
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.PRESENCE_REFRESH,
        new JsonObject().put("node", "n").put("clients", new JsonArray().add(1))).code());
    assertEquals(ErrorCode.BAD_REQUEST, failure(Addresses.PRESENCE_SET_STATE,
        new JsonObject().put("channel", "room:x").put("client", "c").put("state", new JsonArray())).code());
    assertEquals(new JsonObject(), request(Addresses.PRESENCE_REFRESH,
        new JsonObject().put("node", "n").put("clients", new JsonArray())));
  }

  /** {@code depth} nested objects: {"d":{"d":…{}}}. */
  private static JsonObject nested(int depth) {
    JsonObject root = new JsonObject();
    JsonObject cur = root;
    for (int i = 1; i < depth; i++) {
      JsonObject next = new JsonObject();
      cur.put("d", next);
      cur = next;
    }
    return root;
  }

  @Test
  void stateAndInfoNestedPastTheLimitAreRefusedAndTheChannelKeepsAnswering() {
    int max = io.switchboard.common.Defaults.MAX_JSON_DEPTH;
    String client = keepAlive(unique("c")), room = unique("room:");
    ServiceError deepInfo = failure(Addresses.PRESENCE_JOIN, joinBody(client, room).put("info", nested(max + 1)));
    assertEquals(ErrorCode.BAD_REQUEST, deepInfo.code());
    assertEquals("'info' nests deeper than " + max + " levels of objects/arrays, the most accepted", deepInfo.getMessage());
    assertEquals(List.of(), names(members(room)), "nothing joined");
    request(Addresses.PRESENCE_JOIN, joinBody(client, room).put("info", nested(max)));

    JsonObject setState = new JsonObject().put("channel", room).put("client", client);
    assertEquals(new JsonObject(), request(Addresses.PRESENCE_SET_STATE, setState.copy().put("state", nested(max))));
    for (int depth : new int[] {max + 1, 200}) {
      ServiceError deep = failure(Addresses.PRESENCE_SET_STATE, setState.copy().put("state", nested(depth)));
      assertEquals(ErrorCode.BAD_REQUEST, deep.code());
      assertTrue(deep.getMessage().contains("'state' nests deeper than " + max), deep.getMessage());
    }
    JsonObject member = members(room).getJsonObject(0);
    assertEquals(nested(max), member.getJsonObject("state"), "the legal state stays; presence still answers");
    assertEquals(nested(max), member.getJsonObject("info"));
    // a malformed field is described, never printed
    ServiceError named = failure(Addresses.PRESENCE_SET_STATE, setState.copy().put("client", new JsonArray().add(nested(max))).put("state", new JsonObject()));
    assertEquals("'client' must be a non-empty string, got an array", named.getMessage());
  }

  protected static List<String> names(JsonArray members) {
    return members.stream().map(m -> ((JsonObject) m).getString("client")).toList();
  }
}
