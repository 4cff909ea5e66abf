package dev.filebroker.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of the frame decoders with Jazzer. Every {@code mvn verify} replays the
 * committed seed corpus (src/test/resources/dev/filebroker/protocol/FrameCodecFuzzTestInputs) and
 * any findings; {@code JAZZER_FUZZ=1} fuzzes one method for its {@code maxDuration} (see .ci/run).
 *
 * <p>Whatever the bytes, a decoder must never throw, must never consume more than it was given or a
 * frame larger than the wire limit, must always make progress or stop (NeedMore leaves the buffer
 * untouched), and a request it accepts must encode back to exactly the bytes it came from.
 */
class FrameCodecFuzzTest {
  @FuzzTest(maxDuration = "10s")
  void decodeRequest(byte[] input) {
    ByteBuffer in = ByteBuffer.wrap(input);
    while (true) {
      int start = in.position();
      Decoded<Request> d = FrameCodec.decodeRequest(in);
      switch (d) {
        case Decoded.NeedMore<Request> more -> {
          assertEquals(start, in.position(), "NeedMore must not consume");
          assertTrue(more.bytesNeeded() > 0, "NeedMore must need at least one byte");
          assertTrue(
              in.remaining() + more.bytesNeeded() <= Protocol.MAX_FRAME_SIZE,
              "NeedMore must never ask for a frame above MAX_FRAME_SIZE");
          return;
        }
        case Decoded.Fatal<Request> fatal -> {
          assertTrue(fatal.code().isProtocolError(), "Fatal carries a protocol-error code");
          return;
        }
        case Decoded.Rejected<Request> rejected -> {
          assertConsumed(in, start, rejected.size());
          assertEquals(false, rejected.code().isProtocolError(), "Rejected keeps the connection");
        }
        case Decoded.Frame<Request> frame -> {
          assertConsumed(in, start, frame.size());
          byte[] original = Arrays.copyOfRange(input, start, start + frame.size());
          ByteBuffer out = ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE);
          FrameCodec.encode(frame.message(), out);
          assertArrayEquals(
              original,
              Arrays.copyOf(out.array(), out.position()),
              "a decoded request must re-encode to its own bytes");
          // The validator sees whatever decodes; it must answer, never throw.
          RequestValidator.validate(frame.message());
        }
      }
    }
  }

  @FuzzTest(maxDuration = "10s")
  void decodeReply(byte[] input) {
    ByteBuffer in = ByteBuffer.wrap(input);
    while (true) {
      int start = in.position();
      Decoded<Reply> d = FrameCodec.decodeReply(in);
      switch (d) {
        case Decoded.NeedMore<Reply> more -> {
          assertEquals(start, in.position(), "NeedMore must not consume");
          assertTrue(more.bytesNeeded() > 0, "NeedMore must need at least one byte");
          return;
        }
        case Decoded.Fatal<Reply> fatal -> {
          assertTrue(fatal.code().isProtocolError(), "Fatal carries a protocol-error code");
          return;
        }
        case Decoded.Rejected<Reply> rejected ->
            throw new AssertionError("replies are never merely rejected: " + rejected);
        case Decoded.Frame<Reply> frame -> {
          assertConsumed(in, start, frame.size());
          ByteBuffer out = ByteBuffer.allocate(Protocol.MAX_FRAME_SIZE);
          FrameCodec.encode(frame.message(), out);
          out.flip();
          // Messages are cut to 1024 bytes and invalid UTF-8 replaced on the way in, so compare
          // the decoded values of a second round, not the bytes.
          Decoded<Reply> again = FrameCodec.decodeReply(out);
          Reply second = ((Decoded.Frame<Reply>) again).message();
          assertEquals(frame.message().requestId(), second.requestId());
          assertEquals(frame.message().descriptorCount(), second.descriptorCount());
        }
      }
    }
  }

  private static void assertConsumed(ByteBuffer in, int start, int size) {
    assertEquals(start + size, in.position(), "a decoded frame consumes exactly its size");
    assertTrue(
        size >= Protocol.HEADER_SIZE && size <= Protocol.MAX_FRAME_SIZE, "frame size " + size);
  }
}
