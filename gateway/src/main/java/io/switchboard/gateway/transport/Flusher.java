package io.switchboard.gateway.transport;

import io.netty.channel.EventLoop;
import java.util.ArrayList;

/**
 * Flush coalescing for one event loop. Frames are written without a flush; the first write after a flush schedules
 * one flush task at the back of the event loop's queue, which flushes every socket written meanwhile. Under light
 * load that is immediate (the queue is empty); under load all publications already queued are written first, so a
 * socket that received several of them is flushed — one syscall — once.
 */
public final class Flusher {
  /** A connection whose writes the flusher coalesces (WebSocket, HTTP streams). */
  public interface Target {
    /** Marks the target written since the last flush; false when it already was. */
    boolean markDirty();

    /** Flushes what was written (and clears the mark). */
    void flush();
  }

  private final EventLoop loop;
  private final ArrayList<Target> dirty = new ArrayList<>();
  private final Runnable flushAll = this::flushAll;
  private boolean scheduled;

  public Flusher(EventLoop loop) {
    this.loop = loop;
  }

  public void dirty(Target c) {
    if (!c.markDirty()) return;
    dirty.add(c);
    if (!scheduled) {
      scheduled = true;
      loop.execute(flushAll);
    }
  }

  private void flushAll() {
    scheduled = false;
    for (int i = 0; i < dirty.size(); i++) dirty.get(i).flush();
    dirty.clear();
  }
}
