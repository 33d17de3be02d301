package io.switchboard.common;

/**
 * Every event-bus address Switchboard uses, in one place. Services talk only through these.
 *
 * <p>Names are dotted lower case: {@code <service>.<operation>}. Request/reply addresses carry a
 * {@link io.vertx.core.json.JsonObject} request and answer with a JsonObject or a {@link ServiceError}
 * failure; publish addresses are fire-and-forget events.
 */
public final class Addresses {
  private Addresses() {}

  // --- auth-service -------------------------------------------------------------------------------
  /** Request {}: reply {@code {keys:[JWK…]}} — the public keys that verify tokens (a JWKS). */
  public static final String AUTH_KEYS = "auth.keys";
  /** Publish {@code {keys:[JWK…]}} whenever an auth-service starts or rotates keys. */
  public static final String AUTH_KEYS_CHANGED = "auth.keys.changed";
  /** Request {}: reply {@code {subjects:{sub: revokedAtEpochSec}, tokens:{jti: expEpochSec}}}. */
  public static final String AUTH_REVOCATIONS = "auth.revocations";
  /** Publish {@code {subject, revokedAt}} or {@code {tokenId, exp}}: gateways close matching connections (4003). */
  public static final String AUTH_REVOKED = "auth.revoked";
  /**
   * Request {@code {key}}: which credential a presented key is. Reply {@code {admin:true}} for the admin key, else
   * {@code {admin:false, id, subject, sourceType, grants}} (grants with {@code {sub}} filled); {@code unauthorized}
   * when it is neither. The gateway's server API authenticates backends with it on any node.
   */
  public static final String AUTH_KEY_VERIFY = "auth.key.verify";

  // --- message-store ------------------------------------------------------------------------------
  /** Request {@code {publication}}: stores it, replies the stored publication (id, offset, epoch, timestamp). */
  public static final String STORE_APPEND = "store.append";
  /**
   * Request {@code {channels:[{channel, recover?:{offset,epoch}}]}}: per channel its position and, when recovering,
   * the publications after the given position. Reply {@code {channels:[{channel, offset, epoch, recovered?,
   * publications?}]}}.
   */
  public static final String STORE_POSITION = "store.position";
  /** Request {@code {channel, since?, sinceTime?, limit?, reverse?, filter?, subject?}}: reply {@code {publications, offset, epoch}}. */
  public static final String STORE_HISTORY = "store.history";
  /** Request {@code {channel, ids[], subject}}: reply {@code {acked:[ids]}}. */
  public static final String STORE_ACK = "store.ack";
  /** Request {@code {channel, subject}}: reply {@code {publications:[…]}} still awaiting this subject's ack. */
  public static final String STORE_PENDING = "store.pending";

  // --- presence-service ---------------------------------------------------------------------------
  /** Send {@code {channel, client, subject, node, info}}: a member joined (subscribe). */
  public static final String PRESENCE_JOIN = "presence.join";
  /** Send {@code {channel, client}}: a member left (unsubscribe or disconnect). */
  public static final String PRESENCE_LEAVE = "presence.leave";
  /** Send {@code {node, clients:[…]}}: one batch per gateway node keeps all of its members alive. */
  public static final String PRESENCE_REFRESH = "presence.refresh";
  /** Request {@code {channel}}: reply {@code {members:[{client, subject, info, state, joinedAt}]}}. */
  public static final String PRESENCE_QUERY = "presence.query";
  /** Request {@code {channel, client, state}}: reply {}; subscribers get a {@code presence.state} event. */
  public static final String PRESENCE_SET_STATE = "presence.set_state";

  // --- gateway ------------------------------------------------------------------------------------
  /**
   * Prefix of the one clustered address of each gateway JVM ({@code gateway.node.<nodeId>}): a {@link Publication}
   * sent there (with {@link PublicationCodec}) is delivered to that node's local subscribers of its channel. Senders
   * never address gateways directly: they call {@link Fanout#publish}, which sends once per interested node.
   */
  public static final String GATEWAY_NODE_PREFIX = "gateway.node.";
  /**
   * Publish {@code {node, add:[channels], remove:[channels], full?}}: a gateway node announces which channels it has
   * subscribers for; {@code full:true} replaces everything known of that node. Every JVM's {@link Fanout} listens.
   */
  public static final String GATEWAY_INTEREST = "gateway.interest";
  /** Publish {}: a JVM whose {@link Fanout} just started asks every gateway node to announce its full interest. */
  public static final String GATEWAY_INTEREST_SYNC = "gateway.interest.sync";

  /**
   * Publish {@code {command, user?, channel?, token?, reason?, replyTo?, prefix?}}: a server-API command for every
   * gateway event loop of the cluster (server-side subscribe/unsubscribe, disconnect and refresh of a user's live
   * sessions; {@code channels} and {@code info} answer with one message per event loop to {@code replyTo}).
   */
  public static final String GATEWAY_API = "gateway.api";

  /**
   * Prefix of each gateway JVM's ticket address ({@code gateway.ticket.<nodeId>}): request {@code {ticket}} redeems a
   * single-use stream ticket minted on that node, reply {@code {token}}; {@code unauthorized} when unknown, used or
   * expired. Lets an SSE request land on any node.
   */
  public static final String GATEWAY_TICKET_PREFIX = "gateway.ticket.";

  public static String gatewayNode(String nodeId) {
    return GATEWAY_NODE_PREFIX + nodeId;
  }

  // --- application RPC ----------------------------------------------------------------------------
  /** Prefix for application RPC handlers: a client request with method {@code m} goes to {@code rpc.m}. */
  public static final String RPC_PREFIX = "rpc.";

  public static String rpc(String method) {
    return RPC_PREFIX + method;
  }
}
