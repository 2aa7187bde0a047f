package io.ray.engine.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.ClientOps;
import io.ray.engine.rpc.ExitWorker;
import io.ray.engine.rpc.NodeMessage;
import io.ray.engine.rpc.TaskFinished;
import io.ray.engine.rpc.TaskSpec;
import io.ray.engine.rpc.WorkerMessage;
import org.junit.jupiter.api.Test;

/** The worker's channel framing agrees with protobuf's own encoding, both ways. */
class WorkerFramesTest {
  @Test
  void aWrappedReportIsTheWorkerMessageProtobufWouldWrite() throws Exception {
    TaskFinished done =
        TaskFinished.newBuilder()
            .setTaskId(ByteString.copyFromUtf8("task"))
            .setApplicationError(true)
            .build();
    byte[] framed = WorkerFrames.wrap(WorkerMessage.TASK_FINISHED_FIELD_NUMBER, done.toByteArray());
    assertArrayEquals(
        WorkerMessage.newBuilder().setTaskFinished(done).build().toByteArray(), framed);
    assertEquals(done, WorkerMessage.parseFrom(framed).getTaskFinished());
    ClientOps ops = ClientOps.newBuilder().setSeq(7).build();
    assertEquals(
        ops,
        WorkerMessage.parseFrom(
                WorkerFrames.wrap(WorkerMessage.OPS_FIELD_NUMBER, ops.toByteArray()))
            .getOps());
  }

  @Test
  void unwrappingANodeMessageGivesItsFieldAndTheBytesThatArrived() {
    TaskSpec spec = TaskSpec.newBuilder().setName("f").setNumReturns(1).build();
    WorkerFrames.Field f =
        WorkerFrames.unwrap(NodeMessage.newBuilder().setExecute(spec).build().toByteArray());
    assertEquals(NodeMessage.EXECUTE_FIELD_NUMBER, f.number());
    assertArrayEquals(spec.toByteArray(), f.payload());
    WorkerFrames.Field exit =
        WorkerFrames.unwrap(
            NodeMessage.newBuilder()
                .setExit(ExitWorker.getDefaultInstance())
                .build()
                .toByteArray());
    assertEquals(NodeMessage.EXIT_FIELD_NUMBER, exit.number(), "an empty message still counts");
  }

  @Test
  void anEmptyOrBrokenMessageHasNoField() {
    assertEquals(0, WorkerFrames.unwrap(new byte[0]).number());
    assertEquals(0, WorkerFrames.unwrap(new byte[] {0x22, 0x05, 0x01}).number(), "truncated");
    assertEquals(0, WorkerFrames.unwrap(new byte[] {0x08, 0x01}).number(), "not a message field");
  }
}
