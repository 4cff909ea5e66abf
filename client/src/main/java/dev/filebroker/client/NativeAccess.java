package dev.filebroker.client;

import org.newsclub.net.unix.AFUNIXSocket;

/**
 * The one JVM option this library may need. Descriptors arrive through junixsocket, whose native
 * library is loaded with {@code System.loadLibrary}: from JDK 24 on, the JVM prints a warning for
 * that unless native access is enabled for junixsocket's module, and a JVM run with {@code
 * --illegal-native-access=deny} (the default of a future JDK) refuses it. No code on the class path
 * can enable native access for itself; only the command line ({@code --enable-native-access}) or
 * the manifest of the JAR run with {@code java -jar} ({@code Enable-Native-Access: ALL-UNNAMED})
 * can.
 */
final class NativeAccess {
  private NativeAccess() {}

  /** The option that enables native access for junixsocket, as it is deployed in this JVM. */
  static String option() {
    Module module = AFUNIXSocket.class.getModule();
    return "--enable-native-access=" + (module.isNamed() ? module.getName() : "ALL-UNNAMED");
  }

  /**
   * Checks that junixsocket's native library is loaded, loading it the first time.
   *
   * @throws UnsupportedOperationException naming the JVM option, if it could not be loaded
   */
  static void require() {
    if (!AFUNIXSocket.isSupported()) {
      throw new UnsupportedOperationException(
          "The filebroker client cannot receive descriptors: junixsocket could not load its native"
              + " library (its error is printed above). If this JVM denies native access"
              + " (--illegal-native-access=deny), start it with "
              + option()
              + ", or put \"Enable-Native-Access: ALL-UNNAMED\" in the manifest of the JAR run"
              + " with java -jar");
    }
  }
}
