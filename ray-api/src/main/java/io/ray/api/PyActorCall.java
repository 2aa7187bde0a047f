package io.ray.api;

import io.ray.api.call.PyActorTaskCaller;
import io.ray.api.function.PyActorMethod;

/** The {@code task(...)} overloads of {@link PyActorHandle}, for zero to five arguments. */
interface PyActorCall {

  default <R> PyActorTaskCaller<R> task(PyActorMethod<R> pyActorMethod) {
    return call(pyActorMethod);
  }

  default <R> PyActorTaskCaller<R> task(PyActorMethod<R> pyActorMethod, Object obj0) {
    return call(pyActorMethod, obj0);
  }

  default <R> PyActorTaskCaller<R> task(PyActorMethod<R> pyActorMethod, Object obj0, Object obj1) {
    return call(pyActorMethod, obj0, obj1);
  }

  default <R> PyActorTaskCaller<R> task(
      PyActorMethod<R> pyActorMethod, Object obj0, Object obj1, Object obj2) {
    return call(pyActorMethod, obj0, obj1, obj2);
  }

  default <R> PyActorTaskCaller<R> task(
      PyActorMethod<R> pyActorMethod, Object obj0, Object obj1, Object obj2, Object obj3) {
    return call(pyActorMethod, obj0, obj1, obj2, obj3);
  }

  default <R> PyActorTaskCaller<R> task(
      PyActorMethod<R> pyActorMethod,
      Object obj0,
      Object obj1,
      Object obj2,
      Object obj3,
      Object obj4) {
    return call(pyActorMethod, obj0, obj1, obj2, obj3, obj4);
  }

  private <R> PyActorTaskCaller<R> call(PyActorMethod<R> pyActorMethod, Object... args) {
    return new PyActorTaskCaller<>((PyActorHandle) this, pyActorMethod, args);
  }
}
