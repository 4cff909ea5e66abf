package dev.filebroker.daemon.server;

import dev.filebroker.daemon.policy.Policy;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The policy in force: one immutable snapshot, replaced atomically. A request reads the snapshot
 * once and decides against it, so every request sees one whole policy, old or new.
 */
public final class PolicyHolder {
  /**
   * A snapshot with where it came from.
   *
   * @param policy the parsed policy
   * @param source the file or directory it was read from
   * @param loadedAt when it was loaded
   */
  public record Loaded(Policy policy, Path source, Instant loadedAt) {
    public Loaded {
      Objects.requireNonNull(policy, "policy == null");
      Objects.requireNonNull(source, "source == null");
      Objects.requireNonNull(loadedAt, "loadedAt == null");
    }
  }

  private final AtomicReference<Loaded> current;

  /** Starts with {@code initial} in force. */
  public PolicyHolder(Loaded initial) {
    this.current = new AtomicReference<>(Objects.requireNonNull(initial, "initial == null"));
  }

  /** The snapshot in force now. */
  public Loaded current() {
    return current.get();
  }

  /** Puts {@code next} in force for every request that starts after this call. */
  public void replace(Loaded next) {
    current.set(Objects.requireNonNull(next, "next == null"));
  }
}
