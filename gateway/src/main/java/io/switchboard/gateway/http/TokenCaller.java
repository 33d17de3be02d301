package io.switchboard.gateway.http;

import io.switchboard.common.Capability;
import io.switchboard.common.Channels;
import io.switchboard.gateway.Claims;
import io.switchboard.gateway.core.Caller;

/**
 * A client calling the REST API with a verified token. It has no connection: it receives by polling or a stream,
 * which its subscribe grant allows, so it counts as subscribed where that grant (or owning the personal channel)
 * would let it subscribe — that is what acking over REST needs. Its publishes draw on its subject's rate bucket.
 */
final class TokenCaller implements Caller {
  private final Claims claims;
  private final SubjectBuckets buckets;

  TokenCaller(Claims claims, SubjectBuckets buckets) {
    this.claims = claims;
    this.buckets = buckets;
  }

  @Override
  public Claims claims() {
    return claims;
  }

  @Override
  public String clientId() {
    return null;
  }

  @Override
  public boolean subscribed(String channel) {
    return claims.grants().allows(channel, Capability.SUBSCRIBE) || channel.equals(Channels.personal(claims.subject()));
  }

  @Override
  public long takePublishToken(long now) {
    return buckets.take(claims.subject(), now);
  }
}
