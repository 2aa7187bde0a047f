package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.EventLoop;
import io.ray.engine.rpc.LogBatch;
import io.ray.engine.rpc.LogLine;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Sends worker output to the control service, which fans it out to the job's drivers. Lines keep
 * their order: one publish is in flight at a time, and lines that arrive meanwhile are batched into
 * the next. Owned by the node manager's loop.
 */
final class LogPublisher {
  private static final int MAX_LINES_PER_BATCH = 1000;

  /** A line to publish, or (line == null) an action to run once every earlier line is out. */
  private record Pending(ByteString jobId, LogLine line, Runnable after) {}

  private final ControlGateway control;
  private final String nodeIp;
  private final EventLoop loop;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private boolean inFlight;
  private boolean closed;

  LogPublisher(ControlGateway control, String nodeIp, EventLoop loop) {
    this.control = control;
    this.nodeIp = nodeIp;
    this.loop = loop;
  }

  void publish(ByteString jobId, List<LogLine> lines) {
    loop.checkInLoop();
    for (LogLine l : lines) {
      queue.add(new Pending(jobId, l, null));
    }
    sendNext();
  }

  /**
   * Runs {@code action} once every line queued before this call has been published (acknowledged by
   * the control service). Ending a job goes through here, so that the job's log streams are not
   * closed while its last lines are still on their way.
   */
  void afterQueued(Runnable action) {
    loop.checkInLoop();
    queue.add(new Pending(null, null, action));
    sendNext();
  }

  private void sendNext() {
    while (!inFlight && !queue.isEmpty() && queue.peek().line() == null) {
      queue.poll().after().run();
    }
    if (inFlight || queue.isEmpty() || closed) {
      return;
    }
    ByteString job = queue.peek().jobId();
    LogBatch.Builder batch = LogBatch.newBuilder().setJobId(job).setNodeIp(nodeIp);
    while (!queue.isEmpty()
        && queue.peek().line() != null
        && queue.peek().jobId().equals(job)
        && batch.getLinesCount() < MAX_LINES_PER_BATCH) {
      batch.addLines(queue.poll().line());
    }
    inFlight = true;
    control.publishLogs(
        batch.build(),
        () ->
            loop.execute(
                () -> {
                  inFlight = false;
                  sendNext();
                }));
  }

  void close() {
    closed = true;
  }
}
