package io.ray.engine.nodemanager.objects;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.RemoteObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Every object this node knows: whether it is ready, where its value is, and who keeps it alive.
 * Pure state, no I/O; owned by the node manager's event loop.
 *
 * <p>An object stays while any of these holds it: a client's ObjectRefs ({@code clientRefs}), a
 * queued or running task that takes it as an argument ({@code taskRefs}), a stored object whose
 * value contains a ref to it ({@code containerRefs}), or a client reading its arena payload in
 * place ({@code pins}). When all are gone and it is ready, it is removed, the objects it contains
 * lose one container ref each, and {@code onFree} is told (so the arena space can be reused).
 *
 * <p>Invariants: an entry in state READY has exactly one of {@code inline} or an arena location
 * ({@code payloadOffset >= 0}); an entry being written ({@code creating}) is never freed; counts
 * are never negative.
 */
public final class ObjectDirectory {

  public enum State {
    PENDING,
    READY
  }

  /** One object. Fields are read by the node manager; only this class changes them. */
  public static final class Entry {
    public final ByteString id;
    State state = State.PENDING;
    InlineObject inline;
    long payloadOffset = -1;
    long payloadSize;
    ObjectFormat format = ObjectFormat.PICKLE5;

    /** Client writing the arena payload (between create and seal), else null. */
    ByteString creator;

    final Map<ByteString, Integer> clientRefs = new HashMap<>();
    int taskRefs;
    int containerRefs;
    final Map<ByteString, Integer> pins = new HashMap<>();
    List<ByteString> nested = List.of();
    List<Runnable> onReady;

    /**
     * Where the value is while it is not here: another node's store (a task that ran there, its
     * return not pulled yet). Null once it is here, or while nobody has it yet.
     */
    RemoteObject elsewhere;

    /** Told once the value exists, here or elsewhere (a wait that does not fetch). */
    List<Runnable> onLocated;

    Entry(ByteString id) {
      this.id = id;
    }

    public State state() {
      return state;
    }

    /** The node holding the value while it is not here yet; null if none. */
    public RemoteObject elsewhere() {
      return elsewhere;
    }

    /** Whether the value exists: here, or in another node's store. */
    public boolean located() {
      return ready() || elsewhere != null;
    }

    public boolean ready() {
      return state == State.READY;
    }

    public InlineObject inline() {
      return inline;
    }

    public boolean inArena() {
      return payloadOffset >= 0;
    }

    public long payloadOffset() {
      return payloadOffset;
    }

    public long payloadSize() {
      return payloadSize;
    }

    public ObjectFormat format() {
      return format;
    }

    public boolean beingCreated() {
      return creator != null;
    }

    /** Ids of the refs serialized inside the value (it keeps them alive). */
    public List<ByteString> nested() {
      return nested;
    }

    int holders() {
      int n = taskRefs + containerRefs;
      for (int c : clientRefs.values()) {
        n += c;
      }
      return n;
    }
  }

  private final Map<ByteString, Entry> entries = new HashMap<>();

  /** Told when something waits for a value that is elsewhere (it should be pulled here). */
  private Consumer<Entry> onDemand = e -> {};

  private final Consumer<Entry> onFree;
  private final Consumer<ByteString> onRemoved;

  /**
   * @param onFree told about each removed entry that has an arena location
   */
  public ObjectDirectory(Consumer<Entry> onFree) {
    this(onFree, id -> {});
  }

  /**
   * @param onFree told about each removed entry that has an arena location
   * @param onRemoved told the id of every entry removed (after onFree); it must not change this
   *     directory synchronously
   */
  public ObjectDirectory(Consumer<Entry> onFree, Consumer<ByteString> onRemoved) {
    this.onFree = onFree;
    this.onRemoved = onRemoved;
  }

  public Entry get(ByteString id) {
    return entries.get(id);
  }

  public void onDemand(Consumer<Entry> listener) {
    this.onDemand = listener;
  }

  /**
   * A pending object's value exists in another node's store: waits that do not fetch are over, and
   * if something already waits for the value here, it is demanded now.
   */
  public void markElsewhere(ByteString id, RemoteObject where) {
    Entry e = entries.get(id);
    if (e == null || e.ready()) {
      return;
    }
    e.elsewhere = where;
    fireLocated(e);
    if (e.onReady != null) {
      onDemand.accept(e);
    }
  }

  /** The value is no longer elsewhere (that node is gone, or it is being made again). */
  public void clearElsewhere(ByteString id) {
    Entry e = entries.get(id);
    if (e != null) {
      e.elsewhere = null;
    }
  }

  /** Runs {@code callback} once the value exists here or elsewhere (now, if it does). */
  public void whenLocated(Entry e, Runnable callback) {
    if (e.located()) {
      callback.run();
      return;
    }
    if (e.onLocated == null) {
      e.onLocated = new ArrayList<>(2);
    }
    e.onLocated.add(callback);
  }

  private static void fireLocated(Entry e) {
    List<Runnable> callbacks = e.onLocated;
    e.onLocated = null;
    if (callbacks != null) {
      callbacks.forEach(Runnable::run);
    }
  }

  public int size() {
    return entries.size();
  }

  /** Declares an object that will be produced later (a task's return), held by {@code owner}. */
  public Entry addPending(ByteString id, ByteString owner) {
    Entry e = entries.computeIfAbsent(id, Entry::new);
    e.clientRefs.merge(owner, 1, Integer::sum);
    return e;
  }

  /**
   * Stores a small value and makes it ready.
   *
   * @param holder client that gets one reference, or null when the reference already exists (a task
   *     return, declared by {@link #addPending})
   * @return false when the object was already ready (the value is dropped)
   */
  public boolean putInline(ByteString id, InlineObject value, ByteString holder) {
    Entry e = entries.get(id);
    if (e == null) {
      if (holder == null) {
        return false; // Nobody holds it any more: a return value that is no longer wanted.
      }
      e = new Entry(id);
      entries.put(id, e);
    }
    if (e.ready() || e.beingCreated()) {
      return false;
    }
    if (holder != null) {
      e.clientRefs.merge(holder, 1, Integer::sum);
    }
    e.inline = value;
    e.format = value.getFormat();
    setNested(e, value.getNestedRefsList());
    makeReady(e);
    return true;
  }

  /**
   * Records that {@code creator} is writing an arena payload for the object.
   *
   * @return the entry, or null when the object is already ready or being written
   */
  public Entry beginCreate(
      ByteString id,
      ByteString creator,
      long payloadOffset,
      long payloadSize,
      ObjectFormat format,
      List<ByteString> nested,
      boolean holderExists) {
    Entry e = entries.get(id);
    if (e == null) {
      if (holderExists) {
        return null;
      }
      e = new Entry(id);
      entries.put(id, e);
    }
    if (e.ready() || e.beingCreated()) {
      return null;
    }
    e.creator = creator;
    e.payloadOffset = payloadOffset;
    e.payloadSize = payloadSize;
    e.format = format;
    setNested(e, nested);
    if (!holderExists) {
      e.clientRefs.merge(creator, 1, Integer::sum);
    }
    return e;
  }

  /** Whether an object that a task return would create is still wanted by anybody. */
  public boolean wanted(ByteString id) {
    return entries.containsKey(id);
  }

  /** Makes a created object ready. Returns false if it was not being created by this client. */
  public boolean seal(ByteString id, ByteString creator) {
    Entry e = entries.get(id);
    if (e == null || e.creator == null || !e.creator.equals(creator)) {
      return false;
    }
    e.creator = null;
    makeReady(e);
    return true;
  }

  /** Runs {@code callback} once the object is ready (now, if it already is). */
  public void whenReady(Entry e, Runnable callback) {
    if (e.ready()) {
      callback.run();
      return;
    }
    if (e.onReady == null) {
      e.onReady = new ArrayList<>(2);
    }
    e.onReady.add(callback);
    if (e.elsewhere != null) {
      onDemand.accept(e);
    }
  }

  public void addClientRef(ByteString id, ByteString client, int delta) {
    Entry e = entries.get(id);
    if (e == null) {
      return;
    }
    int now = e.clientRefs.getOrDefault(client, 0) + delta;
    if (now > 0) {
      e.clientRefs.put(client, now);
    } else {
      e.clientRefs.remove(client);
    }
    maybeFree(e);
  }

  public void addTaskRef(ByteString id) {
    Entry e = entries.get(id);
    if (e != null) {
      e.taskRefs++;
    }
  }

  public void removeTaskRef(ByteString id) {
    Entry e = entries.get(id);
    if (e != null && e.taskRefs > 0) {
      e.taskRefs--;
      maybeFree(e);
    }
  }

  public void pin(Entry e, ByteString client) {
    e.pins.merge(client, 1, Integer::sum);
  }

  /** Pins taken by a client on its own, for reads of a location it had cached. */
  public void pinById(ByteString id, ByteString client, int count) {
    Entry e = entries.get(id);
    if (e != null && count > 0) {
      e.pins.merge(client, count, Integer::sum);
    }
  }

  public void unpin(ByteString id, ByteString client, int count) {
    Entry e = entries.get(id);
    if (e == null) {
      return;
    }
    int now = e.pins.getOrDefault(client, 0) - count;
    if (now > 0) {
      e.pins.put(client, now);
    } else {
      e.pins.remove(client);
    }
    maybeFree(e);
  }

  /**
   * Forgets everything a departed client held: references, pins, and objects it was still writing
   * (those are removed outright; nobody can read them).
   */
  public void dropClient(ByteString client) {
    // Collect first: releasing may remove entries, which must not happen mid-iteration.
    List<Entry> touched = new ArrayList<>();
    List<Entry> halfWritten = new ArrayList<>();
    for (Entry e : entries.values()) {
      boolean had = e.clientRefs.remove(client) != null;
      had |= e.pins.remove(client) != null;
      if (client.equals(e.creator)) {
        halfWritten.add(e);
      } else if (had) {
        touched.add(e);
      }
    }
    for (Entry e : halfWritten) {
      // A half-written payload is useless: reclaim it. The entry goes back to PENDING so
      // that holders (a task's submitter) see the value when a retry produces it.
      e.creator = null;
      onFree.accept(e);
      e.payloadOffset = -1;
      releaseNested(e);
      maybeFree(e);
    }
    touched.forEach(this::maybeFree);
  }

  private void setNested(Entry e, List<ByteString> nested) {
    e.nested = List.copyOf(nested);
    for (ByteString n : e.nested) {
      Entry inner = entries.get(n);
      if (inner != null) {
        inner.containerRefs++;
      }
    }
  }

  private void makeReady(Entry e) {
    e.state = State.READY;
    e.elsewhere = null;
    fireLocated(e);
    List<Runnable> callbacks = e.onReady;
    e.onReady = null;
    if (callbacks != null) {
      callbacks.forEach(Runnable::run);
    }
    maybeFree(e);
  }

  private void maybeFree(Entry e) {
    if (e.beingCreated() || e.holders() > 0 || !e.pins.isEmpty()) {
      return;
    }
    // A pending object nobody holds any more is dropped too unless something waits for it;
    // if its task still produces it, the value is discarded on arrival.
    if (!e.ready() && (e.onReady != null || e.onLocated != null)) {
      return;
    }
    if (entries.remove(e.id) != e) {
      return;
    }
    if (e.inArena()) {
      onFree.accept(e);
    }
    releaseNested(e);
    onRemoved.accept(e.id);
  }

  private void releaseNested(Entry e) {
    List<ByteString> nested = e.nested;
    e.nested = List.of();
    for (ByteString n : nested) {
      Entry inner = entries.get(n);
      if (inner != null && inner.containerRefs > 0) {
        inner.containerRefs--;
        maybeFree(inner);
      }
    }
  }
}
