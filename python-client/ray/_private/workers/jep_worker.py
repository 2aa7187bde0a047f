"""The task loop of a worker process, run by Jep inside the worker JVM (io.ray.engine.worker).

The JVM hosts the interpreter and watches the node's process; this module does the rest: it
connects to the node (``node_link``), serves direct callers (``push_server``), takes the next
task, runs it, reports the result, and repeats until the node says stop.
"""

from __future__ import annotations

import io
import os
import site
import sys
import threading


class _WorkerOutput(io.TextIOBase):
    """sys.stdout / sys.stderr of a worker: each line goes to the driver, tagged with the task."""

    def __init__(self, link, is_err: bool):
        super().__init__()
        self._link = link
        self._is_err = is_err
        self._partial = ""
        self._lock = threading.Lock()

    @property
    def encoding(self):
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        from ray._private.context import task_context

        with self._lock:
            data = self._partial + text
            *lines, self._partial = data.split("\n")
            for line in lines:
                self._link.output(self._is_err, task_context.task_name, line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._partial:
                from ray._private.context import task_context

                self._link.output(self._is_err, task_context.task_name, self._partial)
                self._partial = ""


def _extend_sys_path(job_sys_path) -> None:
    """The job's sys.path goes first, and site directories get their .pth files processed."""
    for entry in reversed(list(job_sys_path)):
        if entry and entry not in sys.path:
            sys.path.insert(0, entry)
    for entry in list(sys.path):
        if entry.endswith("site-packages"):
            site.addsitedir(entry)


def _holds_refs(finished) -> bool:
    """Whether a call's returns hold refs or live in the arena (the worker reports those)."""
    for v in finished.returns:
        if v.WhichOneof("location") != "inline" or v.inline.nested_refs:
            return True
    return False


def main(worker_id_hex: str, node_manager: str, control: str) -> None:
    from ray._private import context, runtime_env
    from ray._private.direct import DirectCalls
    from ray._private.executor import TaskExecutor, WorkerExit
    from ray._private.outbox import Outbox, ThreadPump
    from ray._private.session import WORKER_MODE, Session, anonymous_namespace
    from ray._private.workers import actor_runtime, cancellation
    from ray._private.workers.node_link import DIRECT_CALL, NodeLink, WorkerTransport
    from ray._private.workers.push_server import PushServer
    from ray.rpc import core_worker_pb2 as core

    sys.argv = sys.argv if getattr(sys, "argv", None) else [""]
    worker_id = bytes.fromhex(worker_id_hex)
    link = NodeLink(worker_id, node_manager, control)
    # Callers push direct calls to this server; its address goes to the node with our hello.
    push_server = PushServer(link, link.host)
    try:
        setup = link.connect(push_server.address, os.getpid())
    except Exception:  # noqa: BLE001 - the node went away before we started
        push_server.stop()
        return
    _extend_sys_path(setup.job_config.python_sys_path)
    # Modules that Java callers name are found on the job's code search path too (as in Ray).
    _extend_sys_path([p for p in setup.job_config.code_search_path if os.path.isdir(p)])
    if setup.job_config.working_dir and os.path.isdir(setup.job_config.working_dir):
        os.chdir(setup.job_config.working_dir)
    sys.stdout = _WorkerOutput(link, False)
    sys.stderr = _WorkerOutput(link, True)

    outbox = Outbox()
    session = Session(
        mode=WORKER_MODE,
        transport=WorkerTransport(link),
        client_id=worker_id,
        job_id=setup.job_id,
        node_id=setup.node_id,
        node_ip=setup.node_ip,
        arena_path=setup.arena_path,
        arena_capacity=setup.arena_capacity,
        max_inline_bytes=setup.max_inline_bytes,
        namespace=setup.job_config.ray_namespace or anonymous_namespace(setup.job_id),
        outbox=outbox,
        base_runtime_env=runtime_env.from_proto(setup.runtime_env),
    )
    # This worker's runtime_env (tasks it runs and submits inherit it): its packages are
    # unpacked once per node and take the place of the job's working directory.
    runtime_env.setup_worker(setup.runtime_env, setup.session_dir, session.control_call)
    # Ops (nested submissions, reference changes) go down the worker's channel, in order.
    pump = ThreadPump(outbox, link.send_ops)
    # Calls this worker's tasks make go straight to actors' and leased workers, as a driver's do.
    session.direct = DirectCalls(session)
    context.set_session(session)
    executor = TaskExecutor(session)

    def report(finished, result) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        # This task's submissions and new references go first on the same channel, so the
        # node applies them before it releases what the task's arguments kept alive. The
        # result stays alive (this frame holds it) until TaskFinished is sent, so refs nested
        # in it are not dropped before the node has the value that holds them.
        pump.drain()
        link.task_finished(finished)
        del result

    # ray.cancel: the node sends cancels on the channel; this thread interrupts the task.
    threading.Thread(
        target=cancellation.serve, args=(link.next_cancel, lambda c: c), name="ray-cancel", daemon=True
    ).start()

    class DirectBatch:
        """Calls pushed together: each call's end goes to the node as it happens (ordered with
        this worker's own changes, and held back a little by the link to share a message);
        the caller gets one answer once all have ended, or when one ends the actor."""

        def __init__(self, push_id: int, request):
            self.push_id = push_id
            self.request = request
            self.results = {}
            self.lock = threading.Lock()
            self.answered = False

        def reporter(self, spec):
            def report_direct(finished, result) -> None:
                finished.direct_owner_id = self.request.owner_id
                finished.direct_owner_seq = self.request.owner_seq
                if finished.actor_exit or finished.worker_exiting:
                    report(finished, result)  # the node must stop the actor now
                else:
                    # As report(): this call's own changes first, then its end. The output
                    # lines go before the answer: a driver that exits right after must not
                    # lose them.
                    sys.stdout.flush()
                    sys.stderr.flush()
                    if pump.drain() == 0 and not _holds_refs(finished):
                        # Nothing of ours must reach the node first: the caller forwards the
                        # end on its own stream, a run of calls in one message.
                        finished.caller_reports = True
                        link.flush_lines()
                    else:
                        link.task_finished_later(finished)
                executor.end_direct(spec.task_id)
                with self.lock:
                    self.results[spec.task_id] = finished
                    done = len(self.results) == len(self.request.specs)
                if done or finished.actor_exit or finished.worker_exiting:
                    self.answer()

            return report_direct

        def answer(self) -> None:
            """Answers the caller with the calls that ended, in the order they were pushed."""
            with self.lock:
                if self.answered:
                    return
                self.answered = True
                ordered = []
                for spec in self.request.specs:
                    if spec.task_id not in self.results:
                        break
                    ordered.append(self.results[spec.task_id])
            reply = core.PushTaskReply(results=ordered, call_id=self.request.call_id, worker_id=worker_id)
            push_server.reply(self.push_id, reply.SerializeToString())

    def run(spec, reporter) -> bool:
        """Runs one task or call; False when the worker must stop taking tasks."""
        runtime = actor_runtime.current()
        if runtime is not None and runtime.concurrent and spec.HasField("actor_task"):
            executor.execute_concurrently(spec, reporter)
            return True
        try:
            finished, result = executor.execute(spec)
        except WorkerExit:
            # sys.exit() in a plain task: end without reporting it; the node sees the worker
            # die while running the task (a crash, retried per max_retries, as in Ray).
            sys.stdout.flush()
            sys.stderr.flush()
            return False
        reporter(finished, result)
        del result
        # max_calls reached (the node retires this worker), or the call ended the actor: calls
        # sent after it must not run (as in Ray they fail with the actor's death). Pushed ones
        # fail over to the node; the node fails those it had already sent here once this
        # worker is gone.
        return not (finished.worker_exiting or finished.actor_exit)

    running = True
    while running:
        item = link.next_task()
        if item is None:
            break
        kind, push_id, payload = item
        if kind == DIRECT_CALL:
            request = core.PushTaskRequest.FromString(payload)
            batch = DirectBatch(push_id, request)
            for spec in request.specs:
                executor.begin_direct(spec.task_id, request.owner_id, request.owner_seq)
                running = run(spec, batch.reporter(spec))
                if not running:
                    batch.answer()  # the calls after it did not run: the caller fails them over
                    break
        else:
            running = run(payload, report)
    # Callers fail over what they pushed and this worker will not run.
    push_server.stop()
    pump.stop()
    link.close()
