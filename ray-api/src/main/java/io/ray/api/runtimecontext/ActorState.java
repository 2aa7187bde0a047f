package io.ray.api.runtimecontext;

/** Where an actor is in its life. */
public enum ActorState {
  /** Waiting for the objects its constructor takes. */
  DEPENDENCIES_UNREADY("DEPENDENCIES_UNREADY", 0),
  /** Being scheduled or started. */
  PENDING_CREATION("PENDING_CREATION", 1),
  /** Running. */
  ALIVE("ALIVE", 2),
  /** Died and is being started again. */
  RESTARTING("RESTARTING", 3),
  /** Dead for good. */
  DEAD("DEAD", 4);

  private final String name;
  private final int value;

  ActorState(String name, int value) {
    this.name = name;
    this.value = value;
  }

  /**
   * The state with number {@code value}.
   *
   * @throws IllegalArgumentException if no state has that number
   */
  public static ActorState fromValue(int value) {
    for (ActorState state : values()) {
      if (state.value == value) {
        return state;
      }
    }
    throw new IllegalArgumentException("No actor state has the number " + value);
  }

  /** The state's name. */
  public String getName() {
    return name;
  }

  /** The state's number in Ray's protocol. */
  public int getValue() {
    return value;
  }
}
