package io.switchboard.gateway.http;

import io.switchboard.common.Addresses;
import io.switchboard.common.Ids;
import io.switchboard.common.App;
import io.switchboard.gateway.core.Disconnect;
import io.switchboard.gateway.core.GatewayLoop;
import io.switchboard.gateway.core.Session;
import io.switchboard.gateway.core.Subscriptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Server-API commands about live sessions, which may be on any gateway of the cluster: the node that got the HTTP
 * request publishes {@link Addresses#GATEWAY_API}, every event loop acts on its own sessions. {@code channels} and
 * {@code info} are gathers: each loop answers to a reply address of the asking node, which merges what arrives
 * until no answer came for {@link ServerApi#GATHER_QUIET_MS} (bounded by the request timeout).
 */
final class GatewayApiCommands {
  static final String VERSION = versionOf();

  private final GatewayLoop loop;
  /** The loop's held long-polls: not sessions, so disconnect and info reach them here. */
  private final PollHub polls;

  GatewayApiCommands(GatewayLoop loop, PollHub polls) {
    this.loop = loop;
    this.polls = polls;
    loop.bus.<JsonObject>consumer(Addresses.GATEWAY_API, m -> onCommand(m.body()));
  }

  /** Sends a command to every gateway loop of the cluster; answers at once (sessions act on it as it arrives). */
  Future<JsonObject> broadcast(JsonObject command) {
    loop.bus.publish(Addresses.GATEWAY_API, command);
    return Future.succeededFuture(new JsonObject());
  }

  /** Asks every gateway loop and collects their answers. */
  Future<List<JsonObject>> gather(JsonObject command) {
    String replyTo = Addresses.GATEWAY_API + ".reply." + Ids.hex(12);
    List<JsonObject> answers = new ArrayList<>();
    Promise<List<JsonObject>> done = Promise.promise();
    long[] quiet = {-1};
    MessageConsumer<JsonObject> consumer = loop.bus.consumer(replyTo);
    Runnable finish = () -> {
      consumer.unregister();
      done.tryComplete(answers);
    };
    long deadline = loop.vertx.setTimer(loop.cfg.requestTimeoutMs(), t -> finish.run());
    consumer.handler(m -> {
      answers.add(m.body());
      if (quiet[0] >= 0) loop.vertx.cancelTimer(quiet[0]);
      quiet[0] = loop.vertx.setTimer(ServerApi.GATHER_QUIET_MS, t -> {
        loop.vertx.cancelTimer(deadline);
        finish.run();
      });
    });
    consumer.completion().onSuccess(v -> loop.bus.publish(Addresses.GATEWAY_API, command.copy().put("replyTo", replyTo)))
        .onFailure(done::tryFail);
    return done.future();
  }

  private void onCommand(JsonObject c) {
    String user = c.getString("user");
    String app = c.getString("app", App.DEFAULT_ID);
    switch (c.getString("command", "")) {
      case "subscribe" -> forUser(app, user, s -> {
        if (!s.transport.isOpen()) return;
        loop.subscriptions.subscribeByServer(s, new Subscriptions.Request(c.getString("channel"), null, null)).onSuccess(est -> {
          Subscriptions.Outcome o = est.outcomes().get(0);
          if (!o.ok()) return; // already subscribed, or not allowed: nothing changes for the client
          s.protocol().subscribed(s, o);
          loop.subscriptions.goLive(s, est);
        });
      });
      case "unsubscribe" -> forUser(app, user, s -> {
        if (loop.subscriptions.unsubscribe(s, List.of(c.getString("channel"))).get(0) == null) {
          s.protocol().unsubscribed(s, c.getString("channel"), "unsubscribed by the server");
        }
      });
      case "disconnect" -> {
        forUser(app, user, s -> s.disconnect(Disconnect.TERMINATED, c.getString("reason", "disconnected by the server")));
        if (polls != null) polls.disconnect(app, user, c.getString("reason", "disconnected by the server"));
      }
      case "refresh" -> loop.verifier.verify(c.getString("token")).onSuccess(claims -> forUser(app, user, s -> {
        s.refreshed(claims);
        for (String ch : loop.subscriptions.dropUngranted(s)) s.protocol().unsubscribed(s, ch, "grant revoked");
      }));
      case "channels" -> {
        String prefix = c.getString("prefix", "");
        JsonObject counts = new JsonObject();
        for (Session s : loop.sessions()) {
          if (s.closing()) continue;
          for (String scoped : s.channels()) {
            // the app's own channels, by their app-local names
            String local = App.local(scoped);
            if (!App.appOf(scoped).equals(app) || !local.startsWith(prefix)) continue;
            counts.put(local, counts.getInteger(local, 0) + 1);
          }
        }
        loop.bus.send(c.getString("replyTo"), new JsonObject().put("node", loop.node).put("channels", counts));
      }
      case "info" -> {
        int subs = 0;
        for (Session s : loop.sessions()) subs += s.subscriptionCount();
        loop.bus.send(c.getString("replyTo"), new JsonObject().put("node", loop.node).put("version", VERSION)
            .put("connections", loop.sessionCount()).put("subscriptions", subs).put("heldPolls", polls == null ? 0 : polls.held()));
      }
      default -> { }
    }
  }

  /** The user's connected sessions in one app (a subject names a user within its app). */
  private void forUser(String app, String user, java.util.function.Consumer<Session> action) {
    if (user == null) return;
    for (Session s : loop.sessions()) {
      if (s.connected() && user.equals(s.subject()) && s.app.id().equals(app)) action.accept(s);
    }
  }

  private static String versionOf() {
    String v = GatewayApiCommands.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
