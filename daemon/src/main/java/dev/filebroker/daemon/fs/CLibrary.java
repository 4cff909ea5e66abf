package dev.filebroker.daemon.fs;

import com.sun.jna.NativeLibrary;

/**
 * The C library, loaded once by its soname; every binding in this package registers against it.
 *
 * <p>Exists for start-up time. Unless {@value #SEARCH_PATH_PROPERTY} is set, JNA's first library
 * lookup runs {@code /sbin/ldconfig -p} in a child process to learn the system's library path: a
 * fork, two execs and about 20 ms of a start that takes 200. The C library needs no search path, as
 * the dynamic loader finds it by its soname, so when the property is unset it is set to empty
 * before JNA is first touched. A value given on the command line is left alone.
 */
final class CLibrary {
  /** The soname of the GNU C library on every architecture the daemon supports. */
  static final String SONAME = "libc.so.6";

  /** JNA's system property for the platform library path. */
  static final String SEARCH_PATH_PROPERTY = "jna.platform.library.path";

  /** The loaded library. */
  static final NativeLibrary INSTANCE;

  static {
    if (System.getProperty(SEARCH_PATH_PROPERTY) == null) {
      System.setProperty(SEARCH_PATH_PROPERTY, "");
    }
    INSTANCE = NativeLibrary.getInstance(SONAME);
  }

  private CLibrary() {}
}
