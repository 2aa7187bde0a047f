"""The Outbox in isolation (no cluster): ordering, batching, netting, fences, local counts."""

from __future__ import annotations

import threading

from ray._private.outbox import Outbox, ThreadPump, stream_messages
from ray.rpc import common_pb2 as common

A, B, C = b"a" * 28, b"b" * 28, b"c" * 28


def spec(n: int) -> common.TaskSpec:
    return common.TaskSpec(task_id=bytes([n]) * 24, name=f"t{n}")


def test_cut_batches_submissions_in_order_with_increasing_seq():
    box = Outbox()
    box.submit(spec(1))
    box.submit(spec(2))
    assert box.fence() == 1
    box.submit(spec(3))
    assert box.fence() == 2
    assert box.fence() == 2, "nothing new: no new message, same fence"
    messages = box.take()
    assert [m.seq for m in messages] == [1, 2]
    assert [a.submit.name for a in messages[0].actions] == ["t1", "t2"]
    assert [a.submit.name for a in messages[1].actions] == ["t3"]
    assert box.take() == []


def test_puts_and_submissions_keep_their_relative_order():
    box = Outbox()
    box.put(common.ObjectValue(object_id=A))
    box.submit(spec(1))
    box.put(common.ObjectValue(object_id=B))
    (message,) = box.take()
    kinds = [a.WhichOneof("action") for a in message.actions]
    assert kinds == ["put", "submit", "put"]
    assert message.actions[2].put.object_id == B


def test_reference_events_net_out_and_only_counted_refs_are_sent():
    box = Outbox()
    box.add_ref(A)
    box.add_ref(A)
    box.remove_ref(A)
    box.add_ref(B, counted=True)  # the node already counts it: local only
    box.add_ref(C)
    box.remove_ref(C)  # nets to zero: nothing to send for C
    box.acquire_pin(A)
    box.release_pin(A)
    (message,) = box.take()
    deltas = {d.object_id: d for d in message.references}
    assert set(deltas) == {A}
    assert (deltas[A].ref_delta, deltas[A].pins_acquired, deltas[A].pins_released) == (1, 1, 1)


def test_last_local_reference_reports_release_once():
    box = Outbox()
    released = []
    box.on_released = released.append
    box.add_ref(A, counted=True)
    box.add_ref(A)
    box.take()
    assert box.holds(A)
    box.remove_ref(A)
    box.take()
    assert released == [] and box.holds(A)
    box.remove_ref(A)
    messages = box.take()
    assert released == [A] and not box.holds(A)
    assert messages[0].references[0].ref_delta == -1


def test_driver_stream_yields_first_message_then_ops_until_closed():
    box = Outbox()
    stream = stream_messages(box, "attach", lambda ops: ("ops", ops.seq))
    assert next(stream) == "attach"
    box.submit(spec(1))
    assert next(stream) == ("ops", 1)
    box.add_ref(A)
    box.close()
    assert list(stream) == [("ops", 2)]


def test_thread_pump_sends_everything_in_order_across_threads():
    box = Outbox()
    sent = []
    pump = ThreadPump(box, lambda ops: sent.append(ops))
    per_thread = 500

    def produce(base):
        for i in range(per_thread):
            box.submit(common.TaskSpec(name=f"{base}-{i}"))

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pump.stop()
    assert [m.seq for m in sent] == list(range(1, len(sent) + 1)), "seq is contiguous and ordered"
    names = [a.submit.name for m in sent for a in m.actions]
    assert len(names) == 4 * per_thread
    for base in range(4):
        mine = [int(n.split("-")[1]) for n in names if n.startswith(f"{base}-")]
        assert mine == list(range(per_thread)), "each thread's submissions keep their order"


def test_an_idle_pump_sleeps_until_a_change_nudges_it():
    """Dozens of idle workers must not each wake every few ms: an idle pump sleeps on a lock
    that a change releases (a reference event, from any thread, without taking the lock)."""
    import time

    from ray._private import outbox as outbox_module

    box = Outbox()
    wakes = []

    def pump():
        while box.wait_for_work():
            wakes.append(time.monotonic())
            box.take()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    time.sleep(0.3)
    idle_wakes = len(wakes)
    assert idle_wakes <= 1, f"an idle pump woke {idle_wakes} times in 0.3 s"
    changed = time.monotonic()
    box.add_ref(A)
    deadline = changed + 5
    while len(wakes) == idle_wakes and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(wakes) > idle_wakes, "the change woke the pump"
    assert wakes[-1] - changed < outbox_module.IDLE_WAIT_S / 2, "woken by the change, not by the safety net"
    box.close()
    thread.join(timeout=5)
    assert not thread.is_alive()
