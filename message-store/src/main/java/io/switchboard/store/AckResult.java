package io.switchboard.store;

import java.util.List;

/**
 * @param acked the requested ids that are acked now (in history, requiring an ack, not expired), including ones
 *     the subject had acked before
 * @param newlyAcked the subset acked by this call: only these get a {@code message.acked} event
 */
public record AckResult(List<String> acked, List<String> newlyAcked) {
  public AckResult {
    acked = List.copyOf(acked);
    newlyAcked = List.copyOf(newlyAcked);
  }
}
