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
 * every client would keep a copy of is kept once: claims parsed from the same token (found by its token id; the same
 * subject, times, source, info and grants: one object), grants identical between tokens (agents differ by subject,
 * their grants often not), channel names.
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

  /**
   * {@code c}, or an earlier verified claims of the same token with exactly the same content; their grants shared
   * likewise. Claims are found by their token id (each token the auth service mints has its own), which the claims
   * hold anyway: a client whose token no other client holds pays only the table's entry for it (~64 B), not a
   * content key. Claims without a token id are not shared (their grants are).
   */
  static Claims of(Claims c) {
    if (c == null) return null;
    Grants g = GRANTS.intern(canonical(c.grants()), c.grants());
    Claims candidate = g == c.grants() ? c : new Claims(c.subject(), c.tokenId(), c.iat(), c.exp(), g, c.sourceType(), c.info());
    if (c.tokenId() == null) return candidate;
    return CLAIMS.intern(c.tokenId(), candidate, SharedClaims::sameContent);
  }

  /** Whether two claims say exactly the same (their grants already interned: one object when equal). */
  static boolean sameContent(Claims a, Claims b) {
    return a.subject().equals(b.subject()) && a.iat() == b.iat() && a.exp() == b.exp()
        && java.util.Objects.equals(a.sourceType(), b.sourceType()) && java.util.Objects.equals(a.info(), b.info())
        && (a.grants() == b.grants() || canonical(a.grants()).equals(canonical(b.grants())));
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

    /** The value held under {@code key} (the key says the whole content), else {@code value}, held from now on. */
    V intern(String key, V value) {
      return intern(key, value, (a, b) -> true);
    }

    /**
     * The value held under {@code key} when {@code same} says it equals {@code value}, else {@code value} (held from
     * now on when the key is free or its value was collected; a different live value under the key stays).
     */
    V intern(String key, V value, java.util.function.BiPredicate<V, V> same) {
      expunge();
      Ref<V> ref = map.get(key);
      V known = ref == null ? null : ref.get();
      if (known != null) return same.test(known, value) ? known : value;
      if (map.size() >= max) return value;
      Ref<V> fresh = new Ref<>(key, value, gone);
      while (true) {
        Ref<V> prev = ref == null ? map.putIfAbsent(key, fresh) : (map.replace(key, ref, fresh) ? null : map.get(key));
        if (prev == null) return value;
        V other = prev.get();
        if (other != null) return same.test(other, value) ? other : value;
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
