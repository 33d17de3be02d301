package io.switchboard.gateway.core;

import io.switchboard.common.Capability;
import io.switchboard.common.Channels;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.NamespaceOptions;
import io.switchboard.common.Namespaces;
import io.switchboard.common.ServiceError;

/**
 * THE channel-access decision: every operation on a channel, from every dialect and every HTTP API, asks here and
 * nowhere else. Checking in one place is what keeps a private channel private: the personal and {@code #}-limited
 * rule once lived in the subscribe path only, so history and pending read other subjects' channels.
 *
 * <p>The rules, in order:
 * <ol>
 *   <li>the name is valid and its namespace exists ({@code bad_request}, {@code unknown_channel});
 *   <li>a personal channel {@code user:<id>} is readable only by {@code <id>}, a channel ending {@code #a,b} only by
 *       {@code a} and {@code b}: every operation but {@link Op#PUBLISH} (sending INTO someone's personal channel is
 *       how a backend or a user commands an agent, so it is left to the grants);
 *   <li>the owner of a personal channel may subscribe, read history and pending, and ack on it without a grant (it
 *       is subscribed to it server-side at connect anyway);
 *   <li>otherwise the token's grant for the operation's capability ({@code permission_denied}), or — for channels a
 *       protocol authorizes one by one with a signature (Pusher's private and presence channels) — what that
 *       signature authorized ({@link Caller#channelAuthorization});
 *   <li>namespace options: clients may publish ({@code clientPublish}), presence is on;
 *   <li>setting presence state and acking need a subscription to the channel ({@code not_subscribed}).
 * </ol>
 */
public final class ChannelAccess {
  /** What a caller wants to do with a channel. */
  public enum Op {
    SUBSCRIBE(Capability.SUBSCRIBE),
    PUBLISH(Capability.PUBLISH),
    HISTORY(Capability.HISTORY),
    /** The caller's own pending acks: allowed with a subscribe or a history grant. */
    PENDING(Capability.HISTORY),
    PRESENCE(Capability.PRESENCE),
    PRESENCE_STATE(Capability.PRESENCE),
    ACK(Capability.SUBSCRIBE);

    final Capability capability;

    Op(Capability capability) {
      this.capability = capability;
    }
  }

  private final Namespaces namespaces;

  public ChannelAccess(Namespaces namespaces) {
    this.namespaces = namespaces;
  }

  /**
   * Decides; returns the channel's namespace options when allowed.
   *
   * @throws ServiceError naming what was refused
   */
  public NamespaceOptions check(Caller caller, String channel, Op op) {
    Params.checkChannel(channel);
    NamespaceOptions ns = namespaces.of(channel);
    if (ns == null) throw new ServiceError(ErrorCode.UNKNOWN_CHANNEL, "unknown namespace '" + Channels.namespace(channel) + "'");
    String subject = caller.subject();
    if (op != Op.PUBLISH && !Channels.nameAllowsSubscriber(channel, subject)) {
      throw new ServiceError(ErrorCode.PERMISSION_DENIED, channel + " is limited to other subjects");
    }
    boolean owner = Channels.isPersonal(channel) && channel.equals(Channels.personal(subject));
    boolean ownerOp = owner && (op == Op.SUBSCRIBE || op == Op.HISTORY || op == Op.PENDING || op == Op.ACK);
    if (!ownerOp && !granted(caller, channel, op)) {
      String what = op == Op.PENDING ? "subscribe or history" : op.capability.wire();
      throw new ServiceError(ErrorCode.PERMISSION_DENIED, "no " + what + " grant for " + channel);
    }
    switch (op) {
      case PUBLISH -> {
        if (!ns.clientPublish() && !caller.server()) {
          throw new ServiceError(ErrorCode.PERMISSION_DENIED, "clients may not publish in namespace '" + Channels.namespace(channel) + "'");
        }
      }
      case PRESENCE, PRESENCE_STATE -> {
        if (!ns.presence()) throw ServiceError.badRequest("presence is off for namespace '" + Channels.namespace(channel) + "'");
      }
      default -> { }
    }
    if ((op == Op.PRESENCE_STATE || op == Op.ACK) && !caller.subscribed(channel)) {
      throw new ServiceError(ErrorCode.NOT_SUBSCRIBED, "only a subscriber of " + channel + " may "
          + (op == Op.ACK ? "ack on" : "set presence state on") + " it");
    }
    return ns;
  }

  /** Whether a refusal was only for want of the subscribe grant (the case an app backend's subscribe proxy decides). */
  public static boolean noSubscribeGrant(ServiceError e) {
    return e.code() == ErrorCode.PERMISSION_DENIED && e.getMessage().startsWith("no subscribe grant for ");
  }

  private static boolean granted(Caller caller, String channel, Op op) {
    if (caller.server()) return true;
    java.util.Set<Capability> signed = caller.channelAuthorization(channel);
    if (signed != null) {
      return switch (op) {
        case PENDING -> signed.contains(Capability.SUBSCRIBE) || signed.contains(Capability.HISTORY);
        case ACK, PRESENCE_STATE -> true;
        default -> signed.contains(op.capability);
      };
    }
    var grants = caller.claims().grants();
    return switch (op) {
      case PENDING -> grants.allows(channel, Capability.SUBSCRIBE) || grants.allows(channel, Capability.HISTORY);
      // acking and setting state need a subscription, which needed the subscribe grant
      case ACK -> true;
      case PRESENCE_STATE -> true;
      default -> grants.allows(channel, op.capability);
    };
  }
}
