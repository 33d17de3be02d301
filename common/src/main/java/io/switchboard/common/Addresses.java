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
   * Request {@code {action, body, by}}: the admin API of the HTTP {@code /v1} routes for trusted callers inside the
   * cluster (the admin dashboard). {@code action} is {@code token} (body as POST /v1/tokens with the admin key),
   * {@code key.create}, {@code key.delete} ({@code {id}}) or {@code revoke}; {@code by} names who asked, for the
   * audit log. Reply: the HTTP answer's JSON ({@code {}} for key.delete).
   */
  public static final String AUTH_ADMIN = "auth.admin";

  /**
   * Request {@code {key}}: which credential a presented key is. Reply {@code {admin:true}} for the admin key, else
   * {@code {admin:false, id, subject, sourceType, grants}} (grants with {@code {sub}} filled); {@code unauthorized}
   * when it is neither. The gateway's server API authenticates backends with it on any node.
   */
  public static final String AUTH_KEY_VERIFY = "auth.key.verify";

  // --- message-store ------------------------------------------------------------------------------
  // Answers that carry publications are bounded by store.maxHistoryBytes (the UTF-8 bytes of the publications'
  // JSON, summed; at least one publication per answer), so the gateway never queues more for one client than its
  // queue holds. An answer cut by it carries more:true and next:{offset, epoch}: the position to continue from.

  /**
   * Request {@code {publication}}: stores it, replies the stored publication (id, offset, epoch, timestamp).
   * {@code publication.data} nested deeper than {@link Defaults#MAX_JSON_DEPTH} is refused with {@code bad_request}.
   */
  public static final String STORE_APPEND = "store.append";
  /**
   * Request {@code {publications:[{publication, idempotencyKey?, exclude?}…]}} (1 to {@link #STORE_APPEND_BATCH_MAX}
   * entries, each what {@link #STORE_APPEND} takes): stores them in array order (so one channel's publications keep
   * their order) and replies {@code {results:[…]}}, one per entry in the same order: what {@link #STORE_APPEND} would
   * reply, or {@code {error:{code, message, …}}} for an entry that failed alone (bad input, rate limit, …). A gateway
   * sends the appends of one event-loop turn this way: one bus round trip for many publishes.
   */
  public static final String STORE_APPEND_BATCH = "store.append.batch";
  /** Most entries in one {@link #STORE_APPEND_BATCH} request. */
  public static final int STORE_APPEND_BATCH_MAX = 256;
  /**
   * Request {@code {channels:[{channel, recover?:{offset,epoch}}]}}: per channel its position and, when recovering,
   * the publications after the given position. Reply {@code {channels:[{channel, offset, epoch, recovered?,
   * publications?, more?, next?}]}}.
   *
   * <p>The publications of the WHOLE reply (all channels) are bounded by store.maxHistoryBytes, in request order.
   * An entry whose publications were cut has {@code recovered:true, more:true, next:{offset, epoch}}: its
   * publications run from the requested position up to {@code next.offset} (none at all when {@code next.offset} is
   * the requested offset), NOT up to the entry's {@code offset} (the channel's head). Read the rest with
   * {@link #STORE_HISTORY} {@code {channel, since: next, limit}} (forward), repeating while the answer says
   * {@code more}, or up to the head; publications fanned out meanwhile have offsets above the head.
   */
  public static final String STORE_POSITION = "store.position";
  /**
   * Request {@code {channels:[name...]}} (at most as many as {@link #STORE_POSITION} takes): reply
   * {@code {channels:[{channel, offset, epoch}]}} — the head of each channel the store has state for, creating none
   * (a channel never read nor appended to, expired or whose history was lost is left out; one only read so far
   * answers offset 0). The gateway's tail check of quiet
   * channels: far cheaper per channel than a position read.
   */
  public static final String STORE_HEADS = "store.heads";
  /**
   * Request {@code {channel, since?:{offset,epoch}, sinceTime?, limit?, reverse?, filter?, subject?}}: reply
   * {@code {publications, offset, epoch, more?, next?}}. {@code more:true} means the page was cut by
   * store.maxHistoryBytes before reaching {@code limit} and at least one more publication matches: ask again with the
   * same query and {@code since = next} — {@code next} is the position of the page's last publication, so this
   * continues forward pages (offsets above it) and reverse pages (offsets below it) alike. Without {@code more} the
   * page ended at {@code limit} or at the end of history. Offsets above 2^53-1 and a sinceTime outside 1970..9999
   * are {@code bad_request}.
   */
  public static final String STORE_HISTORY = "store.history";
  /** Request {@code {channel, ids[], subject}}: reply {@code {acked:[ids]}}. */
  public static final String STORE_ACK = "store.ack";
  /**
   * Request {@code {channel, subject, since?:{offset,epoch}}}: reply {@code {publications, more?, next?}} — the
   * publications still awaiting this subject's ack, in offset order, after {@code since}. {@code more:true}: cut by
   * store.maxHistoryBytes; ask again with {@code since = next} (or ack these first and ask again without since).
   * A {@code since} of another epoch is {@code unrecoverable_position}.
   */
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
  /**
   * Request {@code {channel, client, state}}: reply {}; subscribers get a {@code presence.state} event. A state (or a
   * join's info) nested deeper than {@link Defaults#MAX_JSON_DEPTH} is {@code bad_request}.
   */
  public static final String PRESENCE_SET_STATE = "presence.set_state";

  // --- webhooks (presence-service) ------------------------------------------------------------------
  /**
   * Send {@code {app, events:[{name, channel, …}]}}: queue webhook events of an app raised by a gateway (Pusher's
   * {@code client_event}, {@code cache_miss}); each goes to every webhook of the app that wants its name.
   */
  public static final String WEBHOOKS_ENQUEUE = "webhooks.enqueue";
  /**
   * Send {@code {node, seq, channel, occupied}}: a gateway node got its first local subscriber of a channel
   * ({@code occupied:true}) or lost its last. {@code seq} grows with every change of the node, so a change that
   * overtook a later one on the bus is ignored. The store turns the cluster-wide first/last into
   * {@code channel_occupied}/{@code channel_vacated}, once.
   */
  public static final String WEBHOOKS_OCCUPANCY = "webhooks.occupancy";
  /**
   * Request {@code {node}}: the node is alive for another timeout; reply {@code {known}} — false when the node's
   * channels were vacated (it was taken for dead, or the store lost them): it then resends every occupied channel.
   */
  public static final String WEBHOOKS_NODE_ALIVE = "webhooks.node.alive";

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
  /**
   * Publish {@code {tails?}}: a JVM whose {@link Fanout} just started, or that saw a member come back, asks every
   * gateway node to announce its full interest. After a member came back ({@code tails:true}) each gateway then also
   * checks the tails of its channels that stay quiet (publications routed nowhere while the cluster was split are
   * read from the store).
   */
  public static final String GATEWAY_INTEREST_SYNC = "gateway.interest.sync";

  /**
   * Publish {@code {subject, app?, reason?}}: every gateway closes that subject's sessions in the app (default app when
   * absent) — Pusher's terminate_connections, the server API's disconnect.
   */
  public static final String GATEWAY_DISCONNECT = "gateway.disconnect";

  /**
   * Prefix of each gateway node's counting address ({@code gateway.counts.<nodeId>}): request
   * {@code {channels:[names]}} or {@code {prefix}} → {@code {channels:{name: subscribers}}} for that node's local
   * subscribers (sessions, not users). Summed over {@link Fanout#gatewayNodes()} it gives cluster-wide counts.
   */
  public static final String GATEWAY_COUNTS_PREFIX = "gateway.counts.";

  public static String gatewayCounts(String nodeId) {
    return GATEWAY_COUNTS_PREFIX + nodeId;
  }

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

  // --- cluster membership --------------------------------------------------------------------------
  /**
   * Local only (never crosses the cluster), published by the launcher's cluster fence: {@code {fenced: bool, reason}}.
   * While fenced, this JVM may be outside the cluster (it was paused longer than the heartbeat timeout), so its
   * gateway tells every client to reconnect elsewhere and refuses new ones, as when draining, until it is back.
   */
  public static final String GATEWAY_FENCE = "gateway.fence";
  /**
   * Publish {@code {node, nonce}}: a JVM asks every OTHER member to answer at {@code cluster.probe.reply.<node>}. An
   * answer arriving proves that the cluster routes messages to this JVM again (its registrations are visible).
   */
  public static final String CLUSTER_PROBE = "cluster.probe";
  /** Prefix of each JVM's probe-answer address ({@code cluster.probe.reply.<nodeId>}): {@code {nonce, from}}. */
  public static final String CLUSTER_PROBE_REPLY_PREFIX = "cluster.probe.reply.";

  // --- application RPC ----------------------------------------------------------------------------
  /** Prefix for application RPC handlers: a client request with method {@code m} goes to {@code rpc.m}. */
  public static final String RPC_PREFIX = "rpc.";

  public static String rpc(String method) {
    return RPC_PREFIX + method;
  }
}
