package io.switchboard.gateway.http;

import io.netty.channel.EventLoop;
import java.util.ArrayList;

/**
 * Flush coalescing for the HTTP streams of one event loop (the WebSocket transport's Flusher, for streams): frames
 * are written without a flush, and one task at the back of the loop's queue flushes every stream written meanwhile,
 * so a burst of publications costs one syscall per stream.
 */
final class HttpFlusher {
  private final EventLoop loop;
  private final ArrayList<HttpStreamTransport> dirty = new ArrayList<>();
  private final Runnable flushAll = this::flushAll;
  private boolean scheduled;

  HttpFlusher(EventLoop loop) {
    this.loop = loop;
  }

  void dirty(HttpStreamTransport t) {
    if (t.dirty) return;
    t.dirty = true;
    dirty.add(t);
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
