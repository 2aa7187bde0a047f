package io.ray.engine.nodemanager;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.ray.engine.common.EventLoop;
import io.ray.engine.rpc.NodeManagerServiceGrpc;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.PullObjectRequest;
import io.ray.shm.SharedMemoryArena;
import java.io.IOException;
import java.io.InputStream;

/**
 * One pull of an object from another node into this node's arena. The chunks ({@code ObjectChunk}
 * messages) are parsed here rather than by protobuf: once the payload's space is reserved, a
 * chunk's bytes go from gRPC's buffers through one reused array into the arena, so a transfer
 * leaves no garbage per chunk on the heap. At most two chunks are asked for at a time.
 *
 * <p>Threading: parsing and {@code onNext} run on gRPC's transport thread; the reservation and the
 * outcome run on the node manager's loop, through the {@link Steps} given.
 */
final class ObjectPull
    implements ClientResponseObserver<PullObjectRequest, ObjectPull.Chunk>,
        MethodDescriptor.Marshaller<ObjectPull.Chunk> {

  /** What the pull asks of its owner, on the loop. */
  interface Steps {
    /** Space for the payload, recorded as being written; negative if not wanted here any more. */
    long reserve(long payloadSize, ObjectFormat format);

    /** The pull ended: sealed if {@code ok}, else the half-written payload must be reclaimed. */
    void ended(long payloadOffset, boolean ok, Status status);
  }

  /** A parsed chunk; {@code data} is null when its bytes were written into the arena already. */
  record Chunk(long payloadSize, ObjectFormat format, long offset, byte[] data) {}

  private final EventLoop loop;
  private final SharedMemoryArena arena;
  private final int chunkBytes;
  private final Steps steps;
  private ClientCallStreamObserver<PullObjectRequest> call;

  /** Set once on the loop (before more chunks are asked for), then read on the transport thread. */
  private volatile long payloadOffset = -1;

  private volatile byte[] buffer;

  ObjectPull(EventLoop loop, SharedMemoryArena arena, int chunkBytes, Steps steps) {
    this.loop = loop;
    this.arena = arena;
    this.chunkBytes = chunkBytes;
    this.steps = steps;
  }

  void start(Channel channel, PullObjectRequest request) {
    MethodDescriptor<PullObjectRequest, Chunk> method =
        MethodDescriptor.<PullObjectRequest, Chunk>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
            .setFullMethodName(NodeManagerServiceGrpc.getPullObjectMethod().getFullMethodName())
            .setRequestMarshaller(ProtoUtils.marshaller(PullObjectRequest.getDefaultInstance()))
            .setResponseMarshaller(this)
            .build();
    ClientCalls.asyncServerStreamingCall(
        channel.newCall(method, CallOptions.DEFAULT), request, this);
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<PullObjectRequest> c) {
    call = c;
    c.disableAutoRequestWithInitial(1);
  }

  @Override
  public void onNext(Chunk chunk) {
    if (chunk.data() == null) {
      call.request(1);
      return;
    }
    // The first chunk: reserve the payload's space on the loop, write it, ask for the rest.
    loop.execute(
        () -> {
          long at = steps.reserve(chunk.payloadSize(), chunk.format());
          if (at < 0) {
            call.cancel("not wanted here any more", null);
            return;
          }
          buffer = new byte[(int) Math.min(chunkBytes, chunk.payloadSize())];
          arena.store().write(at + chunk.offset(), chunk.data(), 0, chunk.data().length);
          payloadOffset = at;
          call.request(2);
        });
  }

  @Override
  public void onError(Throwable t) {
    loop.execute(() -> steps.ended(payloadOffset, false, Status.fromThrowable(t)));
  }

  @Override
  public void onCompleted() {
    // Queued after the first chunk's task: the loop runs them in order.
    loop.execute(() -> steps.ended(payloadOffset, payloadOffset >= 0, Status.OK));
  }

  // ---------------------------------------------------------------- ObjectChunk, by hand

  @Override
  public InputStream stream(Chunk value) {
    throw new UnsupportedOperationException("a pull only receives chunks");
  }

  /**
   * Reads one ObjectChunk: fields 1-3 are varints, 4 the bytes (serialized last, by field number,
   * so the chunk's offset is known when they come). An exception here cancels the call, and its
   * onError reclaims the payload.
   */
  @Override
  public Chunk parse(InputStream in) {
    try {
      long size = 0;
      long offset = 0;
      int format = 0;
      byte[] data = null;
      long tag;
      while ((tag = varint(in, true)) >= 0) {
        int field = (int) (tag >>> 3);
        int wire = (int) (tag & 7);
        if (wire == 0) {
          long v = varint(in, false);
          switch (field) {
            case 1 -> size = v;
            case 2 -> format = (int) v;
            case 3 -> offset = v;
            default -> {}
          }
        } else if (wire == 2) {
          int n = Math.toIntExact(varint(in, false));
          if (field != 4) {
            in.skipNBytes(n);
          } else if (payloadOffset >= 0) {
            byte[] b = buffer;
            if (n > b.length) {
              throw new IOException("chunk of " + n + " bytes, more than announced");
            }
            in.readNBytes(b, 0, n);
            arena.store().write(payloadOffset + offset, b, 0, n);
          } else {
            data = in.readNBytes(n);
          }
        } else {
          throw new IOException("unexpected wire type " + wire + " in an object chunk");
        }
      }
      return new Chunk(size, ObjectFormat.forNumber(format), offset, data);
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("bad object chunk: " + e).asRuntimeException();
    }
  }

  /** A base-128 varint; -1 at the end of the stream if {@code eofOk}. */
  private static long varint(InputStream in, boolean eofOk) throws IOException {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = in.read();
      if (b < 0) {
        if (eofOk && shift == 0) {
          return -1;
        }
        throw new IOException("truncated varint");
      }
      v |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    throw new IOException("varint too long");
  }
}
