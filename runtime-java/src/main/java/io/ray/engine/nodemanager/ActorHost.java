package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.actors.LocalActor;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.nodemanager.workers.WorkerHandle;
import io.ray.engine.rpc.TaskFinished;
import io.ray.engine.rpc.TaskSpec;

/**
 * Everything the {@link ActorSupervisor} may ask of its node: the tasks (an actor's creation task
 * and its calls are tasks), the workers that host actors, resource leases for an actor's life, and
 * the objects and control service it reports to. The node manager implements it by delegating to
 * its task scheduler and worker pool; all calls happen on the node manager's loop.
 */
interface ActorHost {
  NodeConfig config();

  ObjectDirectory objects();

  ControlGateway control();

  // ---------------------------------------------------------------- tasks

  TaskRecord task(ByteString taskId);

  /** Stores an engine error as every return of the task, and forgets it. */
  void fail(TaskRecord r, String errorType, String message);

  /** Forgets a task and releases what it kept alive. */
  void finish(TaskRecord r);

  /** Queues a ready task (an actor's creation task, to restart it). */
  void enqueue(TaskRecord r);

  /** Takes a task out of the queue, if it is there. */
  void unqueue(TaskRecord r);

  /** Ends the task's resource lease (its creation placement, for an actor). */
  void endLease(TaskRecord r);

  /** Makes a finished task's inline returns ready. */
  void storeReturns(TaskFinished done);

  /** The spec with its by-reference arguments' values attached for the worker. */
  TaskSpec withResolvedArgs(TaskSpec spec, WorkerHandle w);

  // ---------------------------------------------------------------- resources held for a life

  /** Leases what a live actor holds, under the actor's id. */
  void holdForActor(ByteString actorId, ResourceSet resources);

  /** Ends an actor's lease; no-op if it holds none. */
  void releaseActor(ByteString actorId);

  // ---------------------------------------------------------------- workers

  WorkerHandle worker(ByteString workerId);

  /** Stops a worker on purpose; its death is then handled on a later turn of the loop. */
  void retireWorker(WorkerHandle w);

  /** Kills a worker's process; its death is handled like any crash (restarts, retries). */
  void killWorker(WorkerHandle w);

  /** Starts workers until the job's task pool is back at its prestart size. */
  void replenishPool(ByteString jobId);

  // ---------------------------------------------------------------- actors on other nodes

  /** Whether {@code node} is in this node's view of the cluster. */
  boolean hostAlive(ByteString node);

  /** Sends a ready call of an actor that lives on {@code node} there; false if it cannot go. */
  boolean forwardCall(TaskRecord call, ByteString node);

  /** Tells {@code node}, which hosts the actor, to end it (or, with restart, kill its worker). */
  void endRemote(ByteString node, LocalActor<TaskRecord> actor, boolean noRestart);
}
