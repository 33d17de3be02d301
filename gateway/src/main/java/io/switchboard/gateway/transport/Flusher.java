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
  private final EventLoop loop;
  private final ArrayList<WebSocketTransport> dirty = new ArrayList<>();
  private final Runnable flushAll = this::flushAll;
  private boolean scheduled;

  public Flusher(EventLoop loop) {
    this.loop = loop;
  }

  void dirty(WebSocketTransport c) {
    if (c.dirty) return;
    c.dirty = true;
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
