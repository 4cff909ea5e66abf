package dev.filebroker.daemon.fs;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * {@link RequestCalls} bound with the foreign function and memory API (final in Java 22): each call
 * is a downcall stub that the JIT compiles inline, errno captured by the stub right after the call,
 * where JNA goes through libffi and a JNI transition per call.
 *
 * <p>The daemon targets Java 21, where the API is a preview, so nothing here names its types: they
 * are looked up by reflection once, when this class is initialised, which {@link
 * RequestCalls#foreign()} does only on Java 22 or later. What a call runs is a plain {@link
 * MethodHandle} held in a static final field, with the capture segment's parameter typed {@code
 * Object}, so the JIT treats it as a constant and inlines it. A failure to bind (no native access,
 * say) fails the initialisation, and the daemon keeps JNA.
 *
 * <p>Pointers travel as {@code long} addresses, as with JNA's direct mapping: an address and a
 * {@code long} go in the same registers on every supported architecture (x86-64, arm64, riscv64),
 * and no segment object is made per call. {@code syscall} and {@code fcntl} are declared variadic,
 * as in C.
 */
final class ForeignCalls implements RequestCalls {
  private static final Binder BINDER = new Binder();

  private static final MethodHandle SYSCALL = BINDER.bind("syscall", true, 1, 1, 1, 1, 1, 1);
  private static final MethodHandle STATX = BINDER.bind("statx", false, -1, 0, 1, 0, 0, 1);
  private static final MethodHandle FCNTL = BINDER.bind("fcntl", false, 2, 0, 0, 0);
  private static final MethodHandle CLOSE = BINDER.bind("close", false, -1, 0);
  private static final MethodHandle RECVMSG = BINDER.bind("recvmsg", true, -1, 0, 1, 0);
  private static final MethodHandle SENDMSG = BINDER.bind("sendmsg", true, -1, 0, 1, 0);

  /**
   * Where each thread's stubs leave errno, and a view to read it through. A few bytes per thread,
   * freed by the collector when the thread's map entry goes; nothing is allocated per call.
   */
  private record CallState(Object segment, ByteBuffer view) {}

  private static final ThreadLocal<CallState> CALL_STATE =
      ThreadLocal.withInitial(BINDER::newCallState);

  private static final int ERRNO_OFFSET = BINDER.errnoOffset();

  ForeignCalls() {}

  @Override
  public long openat2(int dirfd, long path, long how, long size) {
    CallState state = CALL_STATE.get();
    try {
      long result =
          (long)
              SYSCALL.invokeExact(state.segment(), LibC.SYS_OPENAT2, (long) dirfd, path, how, size);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int statx(int dirfd, long path, int flags, int mask, long buffer) {
    CallState state = CALL_STATE.get();
    try {
      int result = (int) STATX.invokeExact(state.segment(), dirfd, path, flags, mask, buffer);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int fcntl(int fd, int command, int arg) {
    CallState state = CALL_STATE.get();
    try {
      int result = (int) FCNTL.invokeExact(state.segment(), fd, command, arg);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public int close(int fd) {
    CallState state = CALL_STATE.get();
    try {
      int result = (int) CLOSE.invokeExact(state.segment(), fd);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public long recvmsg(int fd, long message, int flags) {
    CallState state = CALL_STATE.get();
    try {
      long result = (long) RECVMSG.invokeExact(state.segment(), fd, message, flags);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public long sendmsg(int fd, long message, int flags) {
    CallState state = CALL_STATE.get();
    try {
      long result = (long) SENDMSG.invokeExact(state.segment(), fd, message, flags);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static int errno(CallState state) {
    return state.view().getInt(ERRNO_OFFSET);
  }

  /** A downcall throws only what the JVM throws (an Error); nothing is checked. */
  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof Error e) {
      throw e;
    }
    if (t instanceof RuntimeException e) {
      throw e;
    }
    throw new IllegalStateException("downcall failed", t);
  }

  /**
   * The API's types and methods, looked up once. Argument kinds: 0 an {@code int}, 1 a {@code long}
   * (or an address); the result is a {@code long} or an {@code int}.
   */
  private static final class Binder {
    private final Class<?> layoutType;
    private final Class<?> optionType;
    private final Object linker;
    private final Object lookup;
    private final Object javaInt;
    private final Object javaLong;
    private final Object stateLayout;
    private final Method descriptorOf;
    private final Method downcallHandle;
    private final Method find;
    private final Method captureCallState;
    private final Method firstVariadicArg;
    private final Method ofAuto;
    private final Method allocate;
    private final Method asByteBuffer;
    private final Method byteOffset;
    private final Method groupElement;

    Binder() {
      try {
        Class<?> linkerType = Class.forName("java.lang.foreign.Linker");
        layoutType = Class.forName("java.lang.foreign.MemoryLayout");
        Class<?> valueLayout = Class.forName("java.lang.foreign.ValueLayout");
        Class<?> descriptorType = Class.forName("java.lang.foreign.FunctionDescriptor");
        optionType = Class.forName("java.lang.foreign.Linker$Option");
        Class<?> segmentType = Class.forName("java.lang.foreign.MemorySegment");
        Class<?> lookupType = Class.forName("java.lang.foreign.SymbolLookup");
        Class<?> arenaType = Class.forName("java.lang.foreign.Arena");
        Class<?> pathElement = Class.forName("java.lang.foreign.MemoryLayout$PathElement");
        linker = linkerType.getMethod("nativeLinker").invoke(null);
        lookup = linkerType.getMethod("defaultLookup").invoke(linker);
        javaInt = valueLayout.getField("JAVA_INT").get(null);
        javaLong = valueLayout.getField("JAVA_LONG").get(null);
        stateLayout = optionType.getMethod("captureStateLayout").invoke(null);
        descriptorOf = descriptorType.getMethod("of", layoutType, layoutType.arrayType());
        downcallHandle =
            linkerType.getMethod(
                "downcallHandle", segmentType, descriptorType, optionType.arrayType());
        find = lookupType.getMethod("find", String.class);
        captureCallState = optionType.getMethod("captureCallState", String[].class);
        firstVariadicArg = optionType.getMethod("firstVariadicArg", int.class);
        ofAuto = arenaType.getMethod("ofAuto");
        allocate = arenaType.getMethod("allocate", layoutType);
        asByteBuffer = segmentType.getMethod("asByteBuffer");
        byteOffset = layoutType.getMethod("byteOffset", pathElement.arrayType());
        groupElement = pathElement.getMethod("groupElement", String.class);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("the foreign function API is not there: " + e, e);
      }
    }

    /**
     * A downcall handle of {@code name} returning a {@code long} or an {@code int}, with errno
     * captured, as a handle whose first parameter (the capture segment) is typed {@code Object}.
     */
    MethodHandle bind(String name, boolean returnsLong, int firstVariadic, int... arguments) {
      try {
        Object address =
            ((Optional<?>) find.invoke(lookup, name))
                .orElseThrow(() -> new UnsatisfiedLinkError("no " + name + " in the C library"));
        Object layouts = Array.newInstance(layoutType, arguments.length);
        for (int i = 0; i < arguments.length; i++) {
          Array.set(layouts, i, arguments[i] == 0 ? javaInt : javaLong);
        }
        Object descriptor = descriptorOf.invoke(null, returnsLong ? javaLong : javaInt, layouts);
        Object options = Array.newInstance(optionType, firstVariadic < 0 ? 1 : 2);
        Array.set(options, 0, captureCallState.invoke(null, (Object) new String[] {"errno"}));
        if (firstVariadic >= 0) {
          Array.set(options, 1, firstVariadicArg.invoke(null, firstVariadic));
        }
        MethodHandle handle =
            (MethodHandle) downcallHandle.invoke(linker, address, descriptor, options);
        MethodType type = handle.type().changeParameterType(0, Object.class);
        return handle.asType(type);
      } catch (InvocationTargetException e) {
        throw rethrowCause(e);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot bind " + name + ": " + e, e);
      }
    }

    CallState newCallState() {
      try {
        Object segment = allocate.invoke(ofAuto.invoke(null), stateLayout);
        ByteBuffer view =
            ((ByteBuffer) asByteBuffer.invoke(segment)).order(ByteOrder.nativeOrder());
        return new CallState(segment, view);
      } catch (InvocationTargetException e) {
        throw rethrowCause(e);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot allocate the call state: " + e, e);
      }
    }

    int errnoOffset() {
      try {
        Object path = Array.newInstance(groupElement.getReturnType(), 1);
        Array.set(path, 0, groupElement.invoke(null, "errno"));
        return Math.toIntExact((long) byteOffset.invoke(stateLayout, path));
      } catch (InvocationTargetException e) {
        throw rethrowCause(e);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot find errno in the call state: " + e, e);
      }
    }

    private static RuntimeException rethrowCause(InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Error error) {
        throw error;
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(String.valueOf(cause), cause);
    }
  }
}
