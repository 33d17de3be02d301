package io.switchboard.store;

import io.switchboard.common.Priority;
import io.switchboard.common.Publication;
import java.util.Set;

/**
 * Which publications a history query wants. Empty sets match everything; a non-empty set matches a publication
 * whose value is in it ({@code tags}: any of the publication's tags).
 *
 * @param unacked only publications that require an ack and that the querying subject has not acked
 */
public record HistoryFilter(Set<Priority> priorities, Set<String> tags, Set<String> sourceTypes, boolean unacked) {
  public static final HistoryFilter ALL = new HistoryFilter(Set.of(), Set.of(), Set.of(), false);

  public HistoryFilter {
    priorities = Set.copyOf(priorities);
    tags = Set.copyOf(tags);
    sourceTypes = Set.copyOf(sourceTypes);
  }

  /** Whether every publication passes: then an engine need not scan past {@code limit} visible entries. */
  public boolean matchesAll() {
    return priorities.isEmpty() && tags.isEmpty() && sourceTypes.isEmpty() && !unacked;
  }

  /** @param acked ids the querying subject has acked (only consulted with {@code unacked}) */
  public boolean matches(Publication p, Set<String> acked) {
    if (!priorities.isEmpty() && !priorities.contains(p.priority())) return false;
    if (!sourceTypes.isEmpty() && (p.sourceType() == null || !sourceTypes.contains(p.sourceType()))) return false;
    if (!tags.isEmpty() && p.tags().stream().noneMatch(tags::contains)) return false;
    return !unacked || (p.requiresAck() && !acked.contains(p.id()));
  }
}
