package io.ray.engine.nodemanager.scheduling;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;

/**
 * Tasks that are interchangeable for scheduling: same job (so the same workers can run them) and
 * the same resource demand. Queues and the planner work per class, so planning costs grow with the
 * number of classes, not of queued tasks.
 */
public record SchedulingClass(ByteString jobId, ResourceSet demand) {}
