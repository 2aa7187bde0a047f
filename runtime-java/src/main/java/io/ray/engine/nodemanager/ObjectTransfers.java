package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.common.PeerChannels;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.rpc.ObjectChunk;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.PullObjectRequest;
import io.ray.shm.Allocator;
import io.ray.shm.SharedMemoryArena;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Objects between nodes: a node pulls an object another node holds straight into its own arena, in
 * chunks of {@link #CHUNK_BYTES}, and serves its own objects to pulling nodes the same way. Both
 * sides move one chunk at a time (the puller asks for the next chunk once it has written the last;
 * the server sends while its transport is ready), so a transfer of any size costs a few chunks of
 * heap on each side.
 *
 * <p>Threading: {@link #pull} and {@link #serve} are called on the node manager's loop, which owns
 * the directory and the arena's allocation. Payload bytes are written and read on gRPC's threads,
 * into a region reserved for the transfer ({@code beginCreate}, so nothing frees it meanwhile) or
 * out of one pinned for it; every change to the directory hops back to the loop.
 */
final class ObjectTransfers {
  private static final Logger LOG = LoggerFactory.getLogger(ObjectTransfers.class);

  static final int CHUNK_BYTES = 4 << 20;

  private final EventLoop loop;
  private final ObjectDirectory objects;
  private final SharedMemoryArena arena;
  private final PeerChannels channels;
  private final ByteString self;
  private long nextTransfer;

  ObjectTransfers(
      EventLoop loop,
      ObjectDirectory objects,
      SharedMemoryArena arena,
      PeerChannels channels,
      ByteString self) {
    this.loop = loop;
    this.objects = objects;
    this.arena = arena;
    this.channels = channels;
    this.self = self;
  }

  /**
   * Pulls {@code id}, whose entry here is pending, from the node at {@code address}. {@code done}
   * (on the loop) gets true once the object is ready here, false if the pull failed (the entry
   * stays pending, and a half-written payload is reclaimed) or it is no longer wanted.
   *
   * @param release whether the other node then drops the hold it kept on the object for this one
   */
  void pull(ByteString id, String address, boolean release, Consumer<Boolean> done) {
    ByteString creator = ByteString.copyFromUtf8("pull#" + (nextTransfer++));
    long startNs = System.nanoTime();
    PullObjectRequest request =
        PullObjectRequest.newBuilder().setObjectId(id).setNodeId(self).setRelease(release).build();
    new ObjectPull(
            loop,
            arena,
            CHUNK_BYTES,
            new ObjectPull.Steps() {
              @Override
              public long reserve(long payloadSize, ObjectFormat format) {
                return ObjectTransfers.this.reserve(id, creator, payloadSize, format);
              }

              @Override
              public void ended(long payloadOffset, boolean ok, Status status) {
                if (ok) {
                  arena.seal(payloadOffset);
                  objects.seal(id, creator);
                  LOG.debug(
                      "pulled {} from {} in {} ms",
                      Ids.hex(id),
                      address,
                      (System.nanoTime() - startNs) / 1_000_000);
                } else {
                  LOG.debug("pull of {} failed: {}", Ids.hex(id), status);
                  objects.dropClient(creator); // reclaims a half-written payload
                }
                done.accept(ok);
              }
            })
        .start(channels.get(address), request);
  }

  /** Space for a pulled payload, recorded as being written by {@code creator}; -1 if not wanted. */
  private long reserve(ByteString id, ByteString creator, long size, ObjectFormat format) {
    ObjectDirectory.Entry e = objects.get(id);
    if (e == null || e.ready() || e.beingCreated()) {
      return -1;
    }
    long at = arena.create(id.toByteArray(), size, format.getNumber());
    if (at == Allocator.NO_SPACE) {
      LOG.warn(
          "no room for object {} ({} bytes) pulled from another node: store holds {} of {}",
          Ids.hex(id),
          size,
          arena.used(),
          arena.capacity());
      return -1;
    }
    if (objects.beginCreate(id, creator, at, size, format, List.of(), true) == null) {
      arena.free(at);
      return -1;
    }
    return at;
  }

  /**
   * Streams an object held here to a pulling node (called on the loop, where this node's gRPC
   * server runs its handlers). The object stays pinned while it is sent; with {@code release}, this
   * node then drops the hold it kept for the puller.
   */
  void serve(PullObjectRequest req, ServerCallStreamObserver<ObjectChunk> out) {
    ByteString id = req.getObjectId();
    ObjectDirectory.Entry e = objects.get(id);
    if (e == null || !e.ready() || !e.inArena()) {
      out.onError(
          Status.NOT_FOUND
              .withDescription("object " + Ids.hex(id) + " is not in this node's store")
              .asRuntimeException());
      return;
    }
    ByteString pin = ByteString.copyFromUtf8("serve#" + (nextTransfer++));
    objects.pin(e, pin);
    long payload = e.payloadOffset();
    long size = e.payloadSize();
    ObjectFormat format = e.format();
    Runnable finished =
        () ->
            loop.execute(
                () -> {
                  objects.unpin(id, pin, 1);
                  if (req.getRelease()) {
                    objects.addClientRef(id, req.getNodeId(), -1);
                  }
                });
    new Object() {
      private long sent;
      private boolean over;

      /**
       * One buffer for every chunk of this transfer: gRPC frames a message (copies it into its
       * transport buffers) inside onNext, so the array is free again when onNext returns.
       */
      private final byte[] buf = new byte[(int) Math.min(CHUNK_BYTES, size)];

      void start() {
        out.setOnCancelHandler(this::end);
        out.setOnReadyHandler(this::send);
        send();
      }

      /** Sends while the transport takes more (runs on the transport thread). */
      private void send() {
        while (!over && sent < size && out.isReady()) {
          int n = (int) Math.min(buf.length, size - sent);
          arena.store().read(payload + sent, buf, 0, n);
          ObjectChunk.Builder c =
              ObjectChunk.newBuilder()
                  .setOffset(sent)
                  .setData(UnsafeByteOperations.unsafeWrap(buf, 0, n));
          if (sent == 0) {
            c.setPayloadSize(size).setFormat(format);
          }
          out.onNext(c.build());
          sent += n;
        }
        if (!over && sent >= size) {
          out.onCompleted();
          end();
        }
      }

      private void end() {
        if (!over) {
          over = true;
          finished.run();
        }
      }
    }.start();
  }
}
