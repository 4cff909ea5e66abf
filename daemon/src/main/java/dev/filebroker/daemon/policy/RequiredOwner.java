package dev.filebroker.daemon.policy;

import java.util.Objects;
import java.util.Optional;

/**
 * Who must own a file before an allow rule hands it out ({@code owner = ...}): a guard against hard
 * links that alias a file of another user under an allowed path. The daemon compares it with {@code
 * st_uid} of the file it opened.
 */
public sealed interface RequiredOwner {
  /** Whether a file owned by {@code fileUid} may be handed to {@code caller}. */
  boolean accepts(int fileUid, Caller caller);

  /** The caller itself must own the file ({@code owner = "requester"}). */
  record Requester() implements RequiredOwner {
    @Override
    public boolean accepts(int fileUid, Caller caller) {
      return fileUid == caller.uid();
    }

    /** {@code requester}. */
    @Override
    public String toString() {
      return "requester";
    }
  }

  /**
   * One fixed user must own the file ({@code owner = "root"}, a user name, or a uid).
   *
   * @param uid the owner's uid (unsigned)
   * @param name the name the policy used, when it used one
   */
  record User(int uid, Optional<String> name) implements RequiredOwner {
    public User {
      Objects.requireNonNull(name, "name == null");
    }

    @Override
    public boolean accepts(int fileUid, Caller caller) {
      return fileUid == uid;
    }

    /** {@code root (0)} or {@code 1000}. */
    @Override
    public String toString() {
      String id = Integer.toUnsignedString(uid);
      return name.map(n -> n + " (" + id + ")").orElse(id);
    }
  }
}
