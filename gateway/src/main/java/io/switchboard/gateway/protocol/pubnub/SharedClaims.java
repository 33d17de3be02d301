package io.switchboard.gateway.protocol.pubnub;

import io.switchboard.common.Capability;
import io.switchboard.common.Grants;
import io.switchboard.gateway.Claims;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Identical verified claims and grants, and identical channel names, shared between the PubNub clients that hold
 * them. A PubNub client's session lives as long as the client is present (it mostly waits in a held poll), so what
 * every client would keep a copy of is kept once: claims parsed from the same token (the same subject, token id,
 * times, source, info and grants: one object), grants identical between tokens (agents differ by subject, their
 * grants often not), channel names.
 *
 * <p>Sharing is exact: a value is shared only with another of identical content (claims and grants are immutable;
 * {@code info} is never written after verification). The tables hold their values weakly (an entry goes once no
 * client holds its value) and are bounded: past {@link #MAX_ENTRIES} distinct values nothing more is shared (each
 * client keeps its own copy, as without this class). Thread-safe: clients live on every event loop.
 */
final class SharedClaims {
  static final int MAX_ENTRIES = 8192;

  private static final Table<Claims> CLAIMS = new Table<>(MAX_ENTRIES);
  private static final Table<Grants> GRANTS = new Table<>(MAX_ENTRIES);
  private static final Map<String, WeakReference<String>> NAMES = new WeakHashMap<>();

  private SharedClaims() {}

  /** {@code c}, or an earlier verified claims with exactly the same content; their grants shared likewise. */
  static Claims of(Claims c) {
    if (c == null) return null;
    String grantsKey = canonical(c.grants());
    Grants g = GRANTS.intern(grantsKey, c.grants());
    String key = c.subject() + '\u0000' + c.tokenId() + '\u0000' + c.iat() + '\u0000' + c.exp() + '\u0000' + c.sourceType()
        + '\u0000' + (c.info() == null ? "" : c.info().encode()) + '\u0000' + grantsKey;
    Claims candidate = g == c.grants() ? c : new Claims(c.subject(), c.tokenId(), c.iat(), c.exp(), g, c.sourceType(), c.info());
    return CLAIMS.intern(key, candidate);
  }

  /** {@code name}, or an equal channel name already held by a client. */
  static String name(String name) {
    synchronized (NAMES) {
      WeakReference<String> ref = NAMES.get(name);
      String known = ref == null ? null : ref.get();
      if (known != null) return known;
      if (NAMES.size() < MAX_ENTRIES) NAMES.put(name, new WeakReference<>(name));
      return name;
    }
  }

  /** Distinct claims and grants held now (tests). */
  static int[] sizes() {
    return new int[] {CLAIMS.size(), GRANTS.size()};
  }

  /** The grants' content as one string: every pattern with its capabilities, in order. */
  static String canonical(Grants grants) {
    if (grants == null) return "";
    StringBuilder b = new StringBuilder(32);
    for (Grants.Grant g : grants.list()) {
      b.append(g.pattern()).append('\u0000');
      for (Capability cap : Capability.values()) if (g.capabilities().contains(cap)) b.append((char) ('A' + cap.ordinal()));
      b.append('\u0001');
    }
    return b.toString();
  }

  /** Content key → weakly held value; an entry whose value was collected is removed on the next intern. */
  static final class Table<V> {
    private final ConcurrentHashMap<String, Ref<V>> map = new ConcurrentHashMap<>();
    private final ReferenceQueue<V> gone = new ReferenceQueue<>();
    private final int max;

    Table(int max) {
      this.max = max;
    }

    private static final class Ref<V> extends WeakReference<V> {
      final String key;

      Ref(String key, V value, ReferenceQueue<V> q) {
        super(value, q);
        this.key = key;
      }
    }

    V intern(String key, V value) {
      expunge();
      Ref<V> ref = map.get(key);
      V known = ref == null ? null : ref.get();
      if (known != null) return known;
      if (map.size() >= max) return value;
      Ref<V> fresh = new Ref<>(key, value, gone);
      while (true) {
        Ref<V> prev = ref == null ? map.putIfAbsent(key, fresh) : (map.replace(key, ref, fresh) ? null : map.get(key));
        if (prev == null) return value;
        V other = prev.get();
        if (other != null) return other;
        ref = prev;
      }
    }

    @SuppressWarnings("unchecked")
    private void expunge() {
      Ref<V> r;
      while ((r = (Ref<V>) gone.poll()) != null) map.remove(r.key, r);
    }

    int size() {
      expunge();
      return map.size();
    }
  }
}
