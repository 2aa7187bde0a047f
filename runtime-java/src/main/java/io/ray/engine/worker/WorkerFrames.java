package io.ray.engine.worker;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The worker JVM's side of its channel to the node, on the wire format of {@code WorkerMessage} and
 * {@code NodeMessage} (each a oneof of one embedded message) without parsing what Python reads or
 * wrote: a task spec from the node goes to Python as the bytes that arrived, and a report or ops
 * message from Python goes out as the bytes Python serialized, behind a field header. A cold worker
 * JVM runs protobuf code interpreted, so not parsing and re-serializing each message saves real
 * time on every call. Pure functions.
 */
final class WorkerFrames {
  private WorkerFrames() {}

  /** One field of a oneof message: its number and the embedded message's bytes. */
  record Field(int number, byte[] payload) {}

  /** A message whose only field is {@code number}, holding {@code payload} (serialized). */
  static byte[] wrap(int number, byte[] payload) {
    byte[] out = new byte[CodedOutputStream.computeByteArraySize(number, payload)];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      o.writeByteArray(number, payload);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    o.checkNoSpaceLeft();
    return out;
  }

  /**
   * The set field of a oneof message; a message with none (or a field that is not an embedded
   * message) gives number 0.
   */
  static Field unwrap(byte[] message) {
    CodedInputStream in = CodedInputStream.newInstance(message);
    try {
      int tag = in.readTag();
      if (tag == 0 || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        return new Field(0, new byte[0]);
      }
      return new Field(WireFormat.getTagFieldNumber(tag), in.readByteArray());
    } catch (IOException e) {
      return new Field(0, new byte[0]);
    }
  }
}
