// A Ray Java program in the style of Ray's documentation (quick start, tasks, actors, named and
// detached actors, objects, wait, errors, concurrency groups, placement groups, runtime
// environments, cross-language calls). SourceCompatibilityTest compiles it against ray-api; it
// must compile against Ray's own ray_dist.jar just the same. It is never run.
package demo;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.PlacementGroups;
import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.WaitResult;
import io.ray.api.concurrencygroup.ConcurrencyGroup;
import io.ray.api.concurrencygroup.ConcurrencyGroupBuilder;
import io.ray.api.concurrencygroup.annotations.DefConcurrencyGroup;
import io.ray.api.concurrencygroup.annotations.UseConcurrencyGroup;
import io.ray.api.exception.RayActorException;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTaskException;
import io.ray.api.exception.RayTimeoutException;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import io.ray.api.id.ActorId;
import io.ray.api.id.JobId;
import io.ray.api.options.ActorLifetime;
import io.ray.api.options.PlacementGroupCreationOptions;
import io.ray.api.placementgroup.PlacementGroup;
import io.ray.api.placementgroup.PlacementStrategy;
import io.ray.api.runtimecontext.NodeInfo;
import io.ray.api.runtimecontext.RuntimeContext;
import io.ray.api.runtimeenv.RuntimeEnv;
import io.ray.api.runtimeenv.types.RuntimeEnvName;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

public class MyApp {

  public static int square(int x) {
    return x * x;
  }

  public static int add(int a, int b) {
    return a + b;
  }

  public static String echo(String s) {
    return s;
  }

  public static void log(String message) {
    System.out.println(message);
  }

  public static int fail() {
    throw new IllegalStateException("boom");
  }

  public static class Counter {
    private int value = 0;

    public Counter() {}

    public Counter(int initial) {
      this.value = initial;
    }

    public int increment() {
      this.value += 1;
      return this.value;
    }

    public int add(int delta) {
      this.value += delta;
      return this.value;
    }

    public void reset() {
      this.value = 0;
    }

    public int read() {
      return this.value;
    }

    public void stop() {
      Ray.exitActor();
    }
  }

  @DefConcurrencyGroup(name = "io", maxConcurrency = 2)
  @DefConcurrencyGroup(name = "compute", maxConcurrency = 4)
  public static class ConcurrentActor {
    @UseConcurrencyGroup(name = "io")
    public long f1() {
      return Thread.currentThread().getId();
    }

    @UseConcurrencyGroup(name = "compute")
    public long f2() {
      return Thread.currentThread().getId();
    }

    public String f3(int a, int b) {
      return a + "-" + b;
    }
  }

  public static void main(String[] args) {
    Ray.init();
    try {
      // Tasks.
      ObjectRef<Integer> squared = Ray.task(MyApp::square, 3).remote();
      System.out.println(squared.get());
      System.out.println(Ray.get(squared));
      List<ObjectRef<Integer>> objectRefList = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        objectRefList.add(Ray.task(MyApp::square, i).remote());
      }
      List<Integer> squares = Ray.get(objectRefList);
      System.out.println(squares);
      ObjectRef<Integer> sum =
          Ray.task(MyApp::add, squared, Ray.put(4))
              .setName("sum")
              .setResource("CPU", 1.0)
              .remote();
      Ray.task(MyApp::add, 1, sum).remote();
      Ray.task(MyApp::log, "hello").remote();
      Map<String, Double> resources = new HashMap<>();
      resources.put("CPU", 2.0);
      Ray.task(MyApp::echo, "x").setResources(resources).remote();

      // Objects and wait.
      ObjectRef<String> hello = Ray.put("hello");
      String value = Ray.get(hello, 1000);
      System.out.println(value);
      WaitResult<Integer> waitResult = Ray.wait(objectRefList, 1, 1000);
      List<ObjectRef<Integer>> ready = waitResult.getReady();
      List<ObjectRef<Integer>> unready = waitResult.getUnready();
      System.out.println(ready.size() + unready.size());
      Ray.wait(objectRefList);
      Ray.wait(objectRefList, 2);
      Ray.wait(objectRefList, 2, 500, false);

      // Actors.
      ActorHandle<Counter> counter = Ray.actor(Counter::new).remote();
      counter.task(Counter::increment).remote();
      ObjectRef<Integer> current = counter.task(Counter::read).remote();
      System.out.println(current.get());
      counter.task(Counter::reset).remote();
      counter.task(Counter::add, 5).remote();
      counter.task(Counter::add, Ray.put(6)).remote();
      List<ActorHandle<Counter>> counters = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        counters.add(Ray.actor(Counter::new, i).setMaxRestarts(1).remote());
      }
      for (ActorHandle<Counter> c : counters) {
        c.task(Counter::increment).remote();
      }
      objectRefList =
          counters.stream()
              .map(c -> c.task(Counter::read).remote())
              .collect(Collectors.toList());
      System.out.println(Ray.get(objectRefList));

      // Named and detached actors.
      ActorHandle<Counter> named = Ray.actor(Counter::new).setName("counter").remote();
      Optional<ActorHandle<Counter>> found = Ray.getActor("counter");
      found.ifPresent(h -> h.task(Counter::increment).remote());
      Ray.actor(Counter::new)
          .setName("global_counter", "my_namespace")
          .setLifetime(ActorLifetime.DETACHED)
          .remote();
      Optional<ActorHandle<Counter>> inNamespace = Ray.getActor("global_counter", "my_namespace");
      System.out.println(inNamespace.isPresent());
      ActorId counterId = named.getId();
      System.out.println(counterId);
      named.kill();
      counter.kill(false);
      counters.get(0).task(Counter::stop).remote();

      // Actor options.
      Ray.actor(Counter::new, 1)
          .setResource("CPU", 1.0)
          .setMaxConcurrency(4)
          .setMaxTaskRetries(3)
          .setMaxPendingCalls(10)
          .setJvmOptions(List.of("-Xmx256m"))
          .remote();

      // Concurrency groups.
      ConcurrencyGroup group =
          new ConcurrencyGroupBuilder<ConcurrentActor>()
              .setName("io2")
              .setMaxConcurrency(1)
              .addMethod(ConcurrentActor::f1)
              .addMethod(ConcurrentActor::f2)
              .build();
      ActorHandle<ConcurrentActor> concurrent =
          Ray.actor(ConcurrentActor::new).setConcurrencyGroups(group).remote();
      concurrent.task(ConcurrentActor::f1).remote();
      concurrent.task(ConcurrentActor::f3, 1, 2).setConcurrencyGroup("compute").remote();

      // Placement groups.
      Map<String, Double> bundle = new HashMap<>();
      bundle.put("CPU", 1.0);
      List<Map<String, Double>> bundles = new ArrayList<>();
      bundles.add(bundle);
      PlacementGroupCreationOptions pgOptions =
          new PlacementGroupCreationOptions.Builder()
              .setName("pg")
              .setBundles(bundles)
              .setStrategy(PlacementStrategy.STRICT_SPREAD)
              .build();
      PlacementGroup pg = PlacementGroups.createPlacementGroup(pgOptions);
      boolean pgReady = pg.wait(60);
      System.out.println(pgReady);
      Ray.actor(Counter::new).setPlacementGroup(pg, 0).remote();
      Ray.task(MyApp::square, 2).setPlacementGroup(pg).remote();
      PlacementGroups.removePlacementGroup(pg.getId());

      // Runtime environments.
      RuntimeEnv runtimeEnv = new RuntimeEnv.Builder().build();
      Map<String, String> envVars = new HashMap<>();
      envVars.put("KEY", "value");
      runtimeEnv.set(RuntimeEnvName.ENV_VARS, envVars);
      Ray.actor(Counter::new).setRuntimeEnv(runtimeEnv).remote();
      Ray.task(MyApp::square, 1).setRuntimeEnv(runtimeEnv).remote();

      // Python.
      ObjectRef<Integer> pyResult =
          Ray.task(PyFunction.of("my_module", "add", Integer.class), 1, 2).remote();
      ObjectRef<Object> pyAny = Ray.task(PyFunction.of("my_module", "noop")).remote();
      PyActorHandle pyActor = Ray.actor(PyActorClass.of("my_module", "Counter"), 1).remote();
      ObjectRef<Integer> pyValue =
          pyActor.task(PyActorMethod.of("increment", Integer.class), 1).remote();
      ObjectRef<Object> pyRead = pyActor.task(PyActorMethod.of("read")).remote();
      System.out.println(pyResult.get() + " " + pyAny.get() + pyValue.get() + pyRead.get());

      // Errors.
      try {
        Ray.task(MyApp::fail).remote().get();
      } catch (RayTaskException e) {
        System.out.println("task failed: " + e.getCause());
      }
      try {
        Ray.get(counter.task(Counter::read).remote(), 10);
      } catch (RayTimeoutException e) {
        System.out.println("too slow");
      } catch (RayActorException e) {
        System.out.println("actor died: " + e.actorId);
      } catch (RayException e) {
        System.out.println("other: " + e.getMessage());
      }

      // Runtime context.
      RuntimeContext context = Ray.getRuntimeContext();
      JobId jobId = context.getCurrentJobId();
      List<NodeInfo> nodes = context.getAllNodeInfo();
      System.out.println(jobId + " " + nodes.size() + " " + context.isLocalMode());
      System.out.println(Ray.isInitialized());
    } finally {
      Ray.shutdown();
    }
  }
}
