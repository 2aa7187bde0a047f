package io.ray.api;

import io.ray.api.call.CppActorTaskCaller;
import io.ray.api.function.CppActorMethod;

/** The {@code task(...)} overloads of {@link CppActorHandle}, for zero to five arguments. */
interface CppActorCall {

  default <R> CppActorTaskCaller<R> task(CppActorMethod<R> cppActorMethod) {
    return call(cppActorMethod);
  }

  default <R> CppActorTaskCaller<R> task(CppActorMethod<R> cppActorMethod, Object obj0) {
    return call(cppActorMethod, obj0);
  }

  default <R> CppActorTaskCaller<R> task(
      CppActorMethod<R> cppActorMethod, Object obj0, Object obj1) {
    return call(cppActorMethod, obj0, obj1);
  }

  default <R> CppActorTaskCaller<R> task(
      CppActorMethod<R> cppActorMethod, Object obj0, Object obj1, Object obj2) {
    return call(cppActorMethod, obj0, obj1, obj2);
  }

  default <R> CppActorTaskCaller<R> task(
      CppActorMethod<R> cppActorMethod, Object obj0, Object obj1, Object obj2, Object obj3) {
    return call(cppActorMethod, obj0, obj1, obj2, obj3);
  }

  default <R> CppActorTaskCaller<R> task(
      CppActorMethod<R> cppActorMethod,
      Object obj0,
      Object obj1,
      Object obj2,
      Object obj3,
      Object obj4) {
    return call(cppActorMethod, obj0, obj1, obj2, obj3, obj4);
  }

  private <R> CppActorTaskCaller<R> call(CppActorMethod<R> cppActorMethod, Object... args) {
    return new CppActorTaskCaller<>((CppActorHandle) this, cppActorMethod, args);
  }
}
