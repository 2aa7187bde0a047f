package io.ray.engine.nodemanager.objects;

import io.ray.engine.rpc.ErrorInfo;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.ObjectFormat;

/** Values the engine stores in place of an object; Python raises them as ray.exceptions. */
public final class EngineErrors {
  private EngineErrors() {}

  /**
   * @param type class name in ray.exceptions, e.g. "WorkerCrashedError"
   */
  public static InlineObject of(String type, String message) {
    return InlineObject.newBuilder()
        .setFormat(ObjectFormat.ENGINE_ERROR)
        .setPayload(
            ErrorInfo.newBuilder().setErrorType(type).setMessage(message).build().toByteString())
        .build();
  }
}
