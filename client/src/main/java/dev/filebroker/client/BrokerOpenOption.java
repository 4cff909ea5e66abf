package dev.filebroker.client;

import java.nio.file.OpenOption;

/**
 * The open options of {@link FileBroker#open(java.nio.file.Path, java.util.Set,
 * java.nio.file.attribute.FileAttribute...)} that {@link java.nio.file.StandardOpenOption} has no
 * word for.
 */
public enum BrokerOpenOption implements OpenOption {
  /**
   * The path must name a directory, opened for reading ({@code O_DIRECTORY}); it cannot be combined
   * with {@code WRITE}, {@code APPEND}, {@code CREATE}, {@code CREATE_NEW} or {@code
   * TRUNCATE_EXISTING}, and the policy must allow directories. Read the directory through {@link
   * BrokeredFile#fileDescriptor()}. Linux caveat: a directory descriptor lets its holder open
   * entries beneath it relative to it, bypassing the search permission of every ancestor.
   */
  DIRECTORY
}
