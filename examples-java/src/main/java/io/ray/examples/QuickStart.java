package io.ray.examples;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.WaitResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Ray's Java quick start, as Ray's documentation writes it: a task, an actor with state,
 * Ray.put/Ray.get, Ray.wait and a named actor. Run it with {@code make run-java}, or against a
 * running cluster with {@code -Dray.address=auto}.
 */
public class QuickStart {
  public static int square(int x) {
    return x * x;
  }

  /** An actor: a counter whose state lives in its worker. */
  public static class Counter {
    private int value = 0;

    public int increment() {
      value += 1;
      return value;
    }
  }

  public static void main(String[] args) {
    Ray.init();

    List<ObjectRef<Integer>> squares = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      squares.add(Ray.task(QuickStart::square, i).remote());
    }
    System.out.println("squares: " + Ray.get(squares));

    ActorHandle<Counter> counter = Ray.actor(Counter::new).remote();
    List<ObjectRef<Integer>> counts = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      counts.add(counter.task(Counter::increment).remote());
    }
    System.out.println("counter: " + Ray.get(counts));

    ObjectRef<String> greeting = Ray.put("hello from Ray.put");
    System.out.println(greeting.get());

    WaitResult<Integer> waited = Ray.wait(squares, 2, 10_000);
    System.out.println("ready: " + waited.getReady().size());

    ActorHandle<Counter> named = Ray.actor(Counter::new).setName("my_counter").remote();
    named.task(Counter::increment).remote().get();
    Optional<ActorHandle<Counter>> found = Ray.getActor("my_counter");
    System.out.println("named counter: " + found.get().task(Counter::increment).remote().get());

    Ray.shutdown();
  }
}
