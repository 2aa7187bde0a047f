package io.ray.runtime.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import io.ray.api.ObjectRef;
import java.nio.ByteBuffer;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * Java values to bytes and back (Kryo 5): the payload of objects in the {@code JAVA} format. Any
 * class works (no registration); classes load from the given class loader (a worker's is the job's
 * code search path). An {@link ObjectRef} inside a value is refused with a clear error: refs travel
 * only as top-level task arguments here.
 *
 * <p>Thread-safe: each thread has its own Kryo.
 */
public final class JavaCodec {
  private final ThreadLocal<Kryo> kryos;

  public JavaCodec(ClassLoader loader) {
    this.kryos = ThreadLocal.withInitial(() -> newKryo(loader));
  }

  private static Kryo newKryo(ClassLoader loader) {
    Kryo kryo =
        new Kryo() {
          @Override
          @SuppressWarnings("rawtypes")
          public com.esotericsoftware.kryo.Serializer getDefaultSerializer(Class type) {
            if (type.isHidden()) {
              // A lambda: its class exists only in this JVM.
              throw new IllegalArgumentException(
                  "A lambda cannot be sent as a value by this Ray (Ray on the JVM) ("
                      + type.getName()
                      + "): send the data it needs, or call a method by reference");
            }
            return super.getDefaultSerializer(type);
          }
        };

    kryo.setRegistrationRequired(false);
    kryo.setReferences(true);
    kryo.setClassLoader(loader);
    // Classes without a no-argument constructor are built without calling one.
    kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
    kryo.addDefaultSerializer(ObjectRef.class, new io.ray.runtime.ObjectRefImpl.KryoSerializer());
    kryo.addDefaultSerializer(
        io.ray.runtime.ActorHandleImpl.class, new io.ray.runtime.ActorHandleImpl.KryoSerializer());
    return kryo;
  }

  /** The value's bytes; a value Kryo cannot write raises IllegalArgumentException naming it. */
  public byte[] serialize(Object value) {
    try (Output out = new Output(256, -1)) {
      kryos.get().writeClassAndObject(out, value);
      return out.toBytes();
    } catch (RuntimeException e) {
      String what = value == null ? "null" : value.getClass().getName();
      throw new IllegalArgumentException(
          "Could not serialize a value of class " + what + ": " + e.getMessage(), e);
    }
  }

  public Object deserialize(byte[] bytes) {
    try (Input in = new Input(bytes)) {
      return kryos.get().readClassAndObject(in);
    }
  }

  /** Reads the value from the buffer's remaining bytes (a view of shared memory: no copy first). */
  public Object deserialize(ByteBuffer buffer) {
    try (Input in = new com.esotericsoftware.kryo.io.ByteBufferInput(buffer)) {
      return kryos.get().readClassAndObject(in);
    }
  }
}
