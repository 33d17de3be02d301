package io.switchboard.gateway.protocol.centrifuge;

import io.switchboard.common.Publication;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Per channel with fossil-delta subscribers on this event loop: the latest stored publication's data and the one
 * before it, and the delta between them — computed once per publication, whatever the number of subscribers.
 *
 * <p>Invariant: a subscriber gets the delta only if the last publication it was sent is the channel's previous one
 * (so its decoder holds exactly {@link Channel#prevData}); everyone else, and every recovered or first publication
 * after a subscribe, gets the full data. Confined to the loop.
 */
final class DeltaChannels {
  static final class Channel {
    int subscribers;
    long offset = -1;
    String epoch;
    byte[] data;
    long prevOffset = -1;
    byte[] prevData;
    /** The delta from prevData to data when it is smaller than data; null when not (or not computed yet). */
    private byte[] delta;
    private boolean deltaDone;

    /** The delta for the current publication, or null when the full data is as small. */
    byte[] delta() {
      if (!deltaDone) {
        deltaDone = true;
        if (prevData != null) {
          byte[] d = FossilDelta.create(prevData, data);
          delta = d.length < data.length ? d : null;
        }
      }
      return delta;
    }

    boolean current(Publication p) {
      return p.offset() == offset && Objects.equals(p.epoch(), epoch);
    }
  }

  private final Map<String, Channel> channels = new HashMap<>();

  void added(String channel) {
    channels.computeIfAbsent(channel, c -> new Channel()).subscribers++;
  }

  void removed(String channel) {
    Channel ch = channels.get(channel);
    if (ch != null && --ch.subscribers <= 0) channels.remove(channel);
  }

  /**
   * The channel's state having seen {@code p} (a stored publication): a newer one becomes the current, the current
   * the previous (a new epoch forgets the previous). An older one (recovered, held) changes nothing.
   */
  Channel see(Publication p) {
    Channel ch = channels.get(p.channel());
    if (ch == null) return null;
    boolean sameEpoch = Objects.equals(p.epoch(), ch.epoch);
    if (ch.offset < 0 || !sameEpoch || p.offset() > ch.offset) {
      ch.prevOffset = sameEpoch ? ch.offset : -1;
      ch.prevData = sameEpoch ? ch.data : null;
      ch.offset = p.offset();
      ch.epoch = p.epoch();
      ch.data = CentrifugeFrames.dataBytes(p);
      ch.delta = null;
      ch.deltaDone = false;
    }
    return ch;
  }

  Channel get(String channel) {
    return channels.get(channel);
  }

  int size() {
    return channels.size();
  }
}
