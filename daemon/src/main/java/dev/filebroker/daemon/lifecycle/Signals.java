package dev.filebroker.daemon.lifecycle;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

/**
 * Installs handlers for signals (the daemon's SIGHUP and SIGTERM, the signals {@code filebroker
 * run} forwards to its command). The JDK offers no supported API for this; sun.misc.Signal (module
 * jdk.unsupported) is the one every JVM daemon uses. It is reached reflectively because javac's
 * warning for it cannot be suppressed and the build treats warnings as errors.
 */
public final class Signals {
  private Signals() {}

  /**
   * Runs {@code action} on a JVM signal thread each time signal {@code name} (e.g. "HUP") arrives.
   * A signal the JVM was started with ignored (SIGHUP, SIGINT, SIGTERM) stays ignored.
   *
   * @throws IllegalStateException when the handler cannot be installed, for example for SIGQUIT,
   *     which the JVM keeps for thread dumps unless started with -Xrs
   */
  public static void handle(String name, Runnable action) {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Object signal = signalClass.getConstructor(String.class).newInstance(name);
      Object handler =
          Proxy.newProxyInstance(
              Signals.class.getClassLoader(),
              new Class<?>[] {handlerClass},
              (proxy, method, args) -> {
                if (method.getName().equals("handle")) {
                  action.run();
                  return null;
                }
                return switch (method.getName()) {
                  case "toString" -> "filebroker SIG" + name + " handler";
                  case "hashCode" -> System.identityHashCode(proxy);
                  case "equals" -> proxy == args[0];
                  default -> throw new UnsupportedOperationException(method.getName());
                };
              });
      signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
    } catch (ClassNotFoundException
        | NoSuchMethodException
        | InstantiationException
        | IllegalAccessException e) {
      throw new IllegalStateException("Could not install a SIG" + name + " handler: " + e, e);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException(
          "Could not install a SIG" + name + " handler: " + e.getCause(), e.getCause());
    }
  }
}
