package io.switchboard.presence;

import io.switchboard.common.Fanout;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Namespaces;
import io.switchboard.common.Publication;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Announces presence changes to every gateway, as ephemeral publications routed by {@link Fanout} to the gateways with subscribers.
 * Joins, leaves and timeouts only in namespaces with {@code joinLeave} on; state changes always (a client that sets
 * state means others to see it).
 */
final class PresenceEvents {
  static final String JOIN = "presence.join";
  static final String LEAVE = "presence.leave";
  static final String TIMEOUT = "presence.timeout";
  static final String STATE = "presence.state";

  private final Fanout fanout;
  private final Namespaces namespaces;

  PresenceEvents(Fanout fanout, Namespaces namespaces) {
    this.fanout = fanout;
    this.namespaces = namespaces;
  }

  void joined(List<PresenceMember> members) {
    announce(JOIN, members);
  }

  void left(List<PresenceMember> members) {
    announce(LEAVE, members);
  }

  void timedOut(List<PresenceMember> members) {
    announce(TIMEOUT, members);
  }

  void stateChanged(PresenceMember member) {
    JsonObject data = new JsonObject()
        .put("client", member.client())
        .put("subject", member.subject())
        .put("state", member.state().copy());
    fanout.publish(Publication.event(member.channel(), STATE, data));
  }

  private void announce(String event, List<PresenceMember> members) {
    for (PresenceMember m : members) {
      NamespaceOptions options = namespaces.of(m.channel());
      if (options != null && options.joinLeave()) {
        fanout.publish(Publication.event(m.channel(), event, m.identity()));
      }
    }
  }
}
