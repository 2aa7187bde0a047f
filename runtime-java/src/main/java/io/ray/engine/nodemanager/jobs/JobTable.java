package io.ray.engine.nodemanager.jobs;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.JobConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The jobs that have a driver or workers on this node, and the drivers attached to it. Pure state,
 * owned by the node manager's loop.
 *
 * <p>Invariant: every attached driver's job is in the table until the job ends; a job ends (leaves
 * the table) when its last driver detaches.
 */
public final class JobTable {
  /** A job known here. */
  public static final class Job {
    public final ByteString jobId;

    /** Fetched from the control service when the job is first seen; null until then. */
    public JobConfig config;

    /** Run once the job's first workers are attached (a driver's attach waits for this). */
    public final List<Runnable> whenWorkersReady = new ArrayList<>();

    /** Workers of the job's default environment kept warm. */
    public int prestartTarget;

    public boolean ended;

    Job(ByteString jobId) {
      this.jobId = jobId;
    }
  }

  /** An attached driver. */
  public record Driver(ByteString clientId, ByteString jobId, int pid) {}

  private final Map<ByteString, Job> jobs = new HashMap<>();
  private final Map<ByteString, Driver> drivers = new HashMap<>();

  /** The job, or null if it is not running here. */
  public Job get(ByteString jobId) {
    return jobs.get(jobId);
  }

  /** Ids of the jobs known here (a copy). */
  public List<ByteString> ids() {
    return new ArrayList<>(jobs.keySet());
  }

  /** The job, if it runs here and has not ended. */
  public Job running(ByteString jobId) {
    Job j = jobs.get(jobId);
    return j == null || j.ended ? null : j;
  }

  public Job getOrCreate(ByteString jobId) {
    return jobs.computeIfAbsent(jobId, Job::new);
  }

  public void attach(Driver d) {
    drivers.put(d.clientId(), d);
  }

  /** The attached driver with this client id, or null (a worker, or gone). */
  public Driver driver(ByteString clientId) {
    return drivers.get(clientId);
  }

  /** Removes a driver; null if it was not attached. */
  public Driver detach(ByteString clientId) {
    return drivers.remove(clientId);
  }

  public boolean hasDriver(ByteString jobId) {
    for (Driver d : drivers.values()) {
      if (d.jobId().equals(jobId)) {
        return true;
      }
    }
    return false;
  }

  /** Marks the job ended and forgets it; returns it (null if unknown). */
  public Job end(ByteString jobId) {
    Job j = jobs.remove(jobId);
    if (j != null) {
      j.ended = true;
    }
    return j;
  }
}
