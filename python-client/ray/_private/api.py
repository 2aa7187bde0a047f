"""The functions of the ``ray`` namespace: argument checks, then calls into the Session."""

from __future__ import annotations

import atexit
import inspect
import logging
import numbers
import os
import socket
import sys
import threading
from typing import Any, Dict, List, Optional

from ray import exceptions
from ray._private import auth, context, ids
from ray._private import runtime_env as runtime_env_mod
from ray._private.node import TEMP_ROOT, NodeProcess, new_session_dir, start_node
from ray._private.object_ref import ObjectRef
from ray._private.outbox import Outbox, stream_messages
from ray._private.session import DRIVER_MODE, WORKER_MODE, Session, anonymous_namespace
from ray.rpc import control_service_pb2 as control
from ray.rpc import node_manager_pb2 as nm

logger = logging.getLogger("ray")

_lock = threading.RLock()
_driver: Optional[_DriverState] = None
CURRENT_CLUSTER_FILE = "ray_current_cluster"


class _DriverState:
    """What ray.init() set up in this process and ray.shutdown() tears down."""

    def __init__(self, session, transport, attach_call, node: Optional[NodeProcess], log_monitor, address_info):
        # The job's code search path (JobConfig), and the py4j JVM ray.util.java_gateway() started.
        self.code_search_path = []
        self.java_gateway = None
        self.session = session
        self.transport = transport
        self.attach_call = attach_call
        self.node = node
        self.log_monitor = log_monitor
        self.address_info = address_info


class RayContext(dict):
    """What ray.init() returns: the cluster's addresses; usable as a context manager."""

    def __init__(self, address_info: Dict[str, Any]):
        super().__init__(address_info)
        self.address_info = address_info
        self.dashboard_url = None
        self.python_version = "{}.{}.{}".format(*sys.version_info[:3])
        from ray import __version__

        self.ray_version = __version__

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutdown()

    def disconnect(self):
        shutdown()


# ----------------------------------------------------------------------------- init


def _check_resource_number(name: str, value) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value}")


def init(
    address: Optional[str] = None,
    *,
    num_cpus: Optional[int] = None,
    num_gpus: Optional[int] = None,
    resources: Optional[Dict[str, float]] = None,
    labels: Optional[Dict[str, str]] = None,
    object_store_memory: Optional[int] = None,
    local_mode: bool = False,
    ignore_reinit_error: bool = False,
    include_dashboard: Optional[bool] = None,
    dashboard_host: str = "127.0.0.1",
    dashboard_port: Optional[int] = None,
    job_config=None,
    configure_logging: bool = True,
    logging_level: int = logging.INFO,
    logging_format: Optional[str] = None,
    logging_config=None,
    log_to_driver: Optional[bool] = None,
    namespace: Optional[str] = None,
    runtime_env: Optional[Dict[str, Any]] = None,
    **kwargs,
) -> RayContext:
    """Starts a local cluster for this driver, or connects to a running one."""
    global _driver
    with _lock:
        if _driver is not None:
            if ignore_reinit_error:
                logger.info("Calling ray.init() again after it has already been called.")
                return RayContext(_driver.address_info)
            raise RuntimeError(
                "Maybe you called ray.init twice by accident? "
                "This error can be suppressed by passing in "
                "'ignore_reinit_error=True' or by calling "
                "'ray.shutdown()' prior to 'ray.init()'."
            )
        if context.current_session() is not None:
            # Inside a worker the process is already connected; Ray treats init as a no-op there.
            return RayContext({"node_ip_address": context.current_session().node_ip})
        if kwargs:
            raise RuntimeError(f"Unknown keyword argument(s): {', '.join(kwargs)}")
        if local_mode:
            raise RuntimeError(
                "`local_mode` is no longer supported. "
                "For interactive debugging consider using the Ray distributed debugger."
            )
        _check_resource_number("num_cpus", num_cpus)
        _check_resource_number("num_gpus", num_gpus)
        if object_store_memory is not None:
            if isinstance(object_store_memory, bool) or not isinstance(object_store_memory, numbers.Integral):
                raise TypeError(f"object_store_memory must be an integer number of bytes, got {object_store_memory!r}")
            if object_store_memory < 64 * 1024 * 1024:
                raise ValueError(
                    f"object_store_memory must be at least 64 MiB (67108864 bytes), got {object_store_memory}"
                )
        if resources is not None:
            if not isinstance(resources, dict):
                raise TypeError(
                    f"resources must be a dict of resource names to quantities, got {type(resources).__name__}"
                )
            for key in ("CPU", "GPU", "memory", "object_store_memory"):
                if key in resources:
                    keyword = {"CPU": "num_cpus", "GPU": "num_gpus"}.get(key, key)
                    raise ValueError(
                        f"`{key}` cannot be a custom resource because it is one of the default resources. "
                        f"Use `{keyword}` instead."
                    )
            for name, qty in resources.items():
                if not isinstance(name, str):
                    raise TypeError(f"resource names must be strings, got {name!r}")
                _check_resource_number(f"resources[{name!r}]", qty)
        if namespace is not None and not isinstance(namespace, str):
            raise TypeError(f"namespace must be a string, got {type(namespace).__name__}")
        from ray.job_config import JobConfig

        if job_config is not None and not isinstance(job_config, JobConfig):
            raise TypeError(f"job_config must be a ray.job_config.JobConfig, got {type(job_config).__name__}")
        # ray.init's runtime_env takes the place of the job_config's (as in Ray).
        job_env = runtime_env_mod.validate(runtime_env) if runtime_env is not None else None
        if job_env is None and job_config is not None:
            job_env = job_config.runtime_env
        if namespace is None and job_config is not None:
            namespace = job_config.ray_namespace
        if log_to_driver is None:
            log_to_driver = True
        if configure_logging:
            _configure_logging(logging_level, logging_format)

        address = _bootstrap_address(address)
        node: Optional[NodeProcess] = None
        if address is None:
            session_dir = new_session_dir()
            token = (os.environ.get(auth.TOKEN_ENV) or auth.new_token()) if auth.enabled() else None
            auth.use(token)
            node = start_node(
                token=token,
                head=True,
                session_dir=session_dir,
                num_cpus=num_cpus if num_cpus is not None else _default_cpus(),
                num_gpus=num_gpus if num_gpus is not None else _default_gpus(),
                resources=resources,
                object_store_memory=object_store_memory,
                parent_pid=os.getpid(),
            )
            control_address = node.control_address
            node_manager_address = node.node_manager_address
        else:
            # Ray's checks and messages for options that only a new cluster can take.
            if num_cpus is not None or num_gpus is not None:
                raise ValueError("When connecting to an existing cluster, num_cpus and num_gpus must not be provided.")
            if resources is not None:
                raise ValueError("When connecting to an existing cluster, resources must not be provided.")
            if labels is not None:
                raise ValueError("When connecting to an existing cluster, labels must not be provided.")
            if object_store_memory is not None:
                raise ValueError("When connecting to an existing cluster, object_store_memory must not be provided.")
            control_address = address
            auth.use(auth.find_token(TEMP_ROOT, control_address) if auth.enabled() else None)
            logger.info("Connecting to existing Ray cluster at address: %s...", control_address)
            node_manager_address = _local_node_manager(control_address)
        try:
            code_search_path = [os.path.abspath(p) for p in job_config.code_search_path] if job_config else []
            _driver = _connect(
                control_address,
                node_manager_address,
                node,
                namespace,
                log_to_driver,
                job_env,
                code_search_path=code_search_path,
            )
            _driver.code_search_path = code_search_path
        except BaseException:
            if node is not None:
                node.stop()
            raise
        logger.info("Started a local Ray instance." if node is not None else "Connected to Ray cluster.")
        return RayContext(_driver.address_info)


def _default_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _default_gpus() -> int:
    """NVIDIA GPUs this process may use: CUDA_VISIBLE_DEVICES if set, else the driver's list."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    try:
        return len(os.listdir("/proc/driver/nvidia/gpus"))
    except OSError:
        return 0


def _configure_logging(level, fmt) -> None:
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter(fmt or "%(asctime)s\t%(levelname)s %(filename)s:%(lineno)s -- %(message)s")
        )
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def _bootstrap_address(address: Optional[str]) -> Optional[str]:
    """The control address to join, or None to start a local cluster (Ray's rules).

    An explicit host:port is used as given. None and "auto" take RAY_ADDRESS if set, else the
    cluster `ray start --head` recorded on this machine (RAY_TMPDIR/ray_current_cluster, removed
    by `ray stop`). Without one, "auto" is an error and None starts a local cluster; so does
    None when the recorded cluster does not answer (it was killed without `ray stop`).
    """
    if address in (None, "auto"):
        address = os.environ.get("RAY_ADDRESS") or address
    if address == "local":
        return None
    if address is None:
        recorded = _recorded_cluster()
        if recorded is None:
            return None
        if not _reachable(recorded):
            logger.warning(
                "The Ray cluster recorded in %s (%s) is not reachable; starting a local Ray instance instead.",
                _current_cluster_file(),
                recorded,
            )
            return None
        return recorded
    if address == "auto":
        recorded = _recorded_cluster()
        if recorded is None:
            raise ConnectionError(
                "Could not find any running Ray instance. Please specify the one to connect to by setting "
                "`--address` flag or `RAY_ADDRESS` environment variable."
            )
        return recorded
    if address.startswith("ray://"):
        address = address[len("ray://") :]
    if ":" not in address:
        raise ValueError(f"Malformed address {address!r}: expected host:port")
    return address


def _current_cluster_file() -> str:
    return os.path.join(os.environ.get("RAY_TMPDIR", "/tmp/ray"), CURRENT_CLUSTER_FILE)


def _recorded_cluster() -> Optional[str]:
    try:
        with open(_current_cluster_file()) as f:
            return f.read().strip() or None
    except OSError:
        return None


def _reachable(address: str, timeout: float = 2.0) -> bool:
    """Whether something accepts connections at host:port (the control service, once joined)."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def _local_node_manager(control_address: str) -> str:
    """The node manager on this host, from the control service's node table."""
    from ray._private.transport import GrpcTransport

    probe = GrpcTransport(control_address, control_address)
    try:
        try:
            reply = probe.call(
                "ray.rpc.ControlService/GetAllNodes", control.GetAllNodesRequest(), control.GetAllNodesReply, timeout=10
            )
        except exceptions.RaySystemError as e:
            if getattr(e, "code", None) == "UNAUTHENTICATED":
                raise exceptions.AuthenticationError(str(e)) from None
            raise ConnectionError(f"Could not connect to the Ray cluster at {control_address}: {e}") from None
    finally:
        probe.close()
    local_ips = {"127.0.0.1", _own_ip()}
    alive = [n for n in reply.nodes if n.alive]
    for n in sorted(alive, key=lambda n: not n.is_head):
        if n.node_ip in local_ips:
            return f"{n.node_ip}:{n.node_manager_port}"
    raise ConnectionError(
        f"The Ray cluster at {control_address} has no node on this machine; "
        f"start one with `ray start --address={control_address}`."
    )


def _own_ip() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def _connect(
    control_address, node_manager_address, node, namespace, log_to_driver, job_env=None, code_search_path=()
) -> _DriverState:
    # Imported here: drivers speak gRPC; workers (which import this module too) do not.
    from ray._private.transport import CONTROL_SERVICE, GrpcTransport

    transport = GrpcTransport(node_manager_address, control_address)
    # The job's runtime_env is packaged and uploaded once here; tasks merge it into their own.
    packager = runtime_env_mod.Packager(lambda m, req, rt: transport.call(CONTROL_SERVICE + m, req, rt))
    try:
        base_env = runtime_env_mod.resolve(job_env, packager)
    except BaseException:
        transport.close()
        raise
    job_config = control.JobConfig(
        python_sys_path=[os.path.abspath(p) if p else os.getcwd() for p in sys.path],
        working_dir=os.getcwd(),
        ray_namespace=namespace or "",
        runtime_env=runtime_env_mod.to_proto(base_env),
        code_search_path=[os.path.abspath(p) for p in code_search_path],
    )
    job = transport.call(
        "ray.rpc.ControlService/RegisterJob",
        control.RegisterJobRequest(driver_pid=os.getpid(), driver_ip="127.0.0.1", config=job_config),
        control.RegisterJobReply,
        timeout=30,
    )
    client_id = ids.new_unique_id()
    outbox = Outbox()
    attach = nm.DriverMessage(
        attach=nm.AttachDriverRequest(client_id=client_id, job_id=job.job_id, pid=os.getpid(), wait_for_workers=True)
    )
    # The session stream: the attach request, then this driver's ops for as long as it lives.
    attach_call, events = transport.bidi(
        "ray.rpc.NodeManagerService/AttachDriver",
        stream_messages(outbox, attach, lambda ops: nm.DriverMessage(ops=ops)),
        nm.DriverEvent,
    )
    welcome = next(events).welcome
    log_monitor = None
    if log_to_driver:
        from ray._private.log_monitor import LogMonitor

        log_monitor = LogMonitor(transport, job.job_id, welcome.node_ip)
    session = Session(
        mode=DRIVER_MODE,
        transport=transport,
        client_id=client_id,
        job_id=job.job_id,
        node_id=welcome.node_id,
        node_ip=welcome.node_ip,
        arena_path=welcome.arena_path,
        arena_capacity=welcome.arena_capacity,
        max_inline_bytes=welcome.max_inline_bytes,
        namespace=namespace or anonymous_namespace(job.job_id),
        outbox=outbox,
        packager=packager,
        base_runtime_env=base_env,
    )
    from ray._private.direct import DirectCalls

    session.direct = DirectCalls(session)
    context.set_session(session)
    address_info = {
        "node_ip_address": welcome.node_ip,
        "raylet_ip_address": welcome.node_ip,
        "address": control_address,
        "gcs_address": control_address,
        "node_manager_address": node_manager_address,
        "session_dir": node.session_dir if node else "",
        "node_id": welcome.node_id.hex(),
        "job_id": job.job_id.hex(),
    }
    state = _DriverState(session, transport, attach_call, node, log_monitor, address_info)
    atexit.register(shutdown)
    return state


# ----------------------------------------------------------------------------- shutdown


def driver_state() -> _DriverState:
    """This driver's connection (ray.init() runs first if it has not)."""
    context.session_or_init()
    state = _driver
    if state is None:
        raise RuntimeError("This process is not a Ray driver (ray.util.java_gateway() is for drivers)")
    return state


def shutdown(_exiting_interpreter: bool = False) -> None:
    """Disconnects; stops the local cluster if ray.init() started one. Safe to call twice.

    Every wait here is bounded, so a driver always exits and its embedded node always stops:
    the gRPC part of the teardown runs on a helper thread that we wait for only so long (a
    channel wedged by an earlier failure must not keep the engine, its workers and the arena
    alive), and the node is stopped with SIGTERM, then SIGKILL, whatever happened before.
    """
    global _driver
    if not _lock.acquire(timeout=SHUTDOWN_LOCK_TIMEOUT_S):
        logger.warning("ray.shutdown(): another thread is still in ray.init()/shutdown(); going ahead")
        locked = False
    else:
        locked = True
    try:
        state = _driver
        if state is None:
            return
        _driver = None
        try:
            disconnect = threading.Thread(target=_disconnect, args=(state,), name="ray-shutdown", daemon=True)
            disconnect.start()
            disconnect.join(DETACH_TIMEOUT_S + LOG_DRAIN_TIMEOUT_S + 5)
        finally:
            context.set_session(None)
            state.session.close()
            if state.java_gateway is not None:
                state.java_gateway.close()
            if state.node is not None:
                state.node.stop()
        try:
            atexit.unregister(shutdown)
        except Exception:  # noqa: BLE001
            pass
    finally:
        if locked:
            _lock.release()


DETACH_TIMEOUT_S = 10.0
LOG_DRAIN_TIMEOUT_S = 2.0
SHUTDOWN_LOCK_TIMEOUT_S = 30.0


def _disconnect(state: _DriverState) -> None:
    """The gRPC side of shutdown; runs on a helper thread (see shutdown)."""
    try:
        # Closing the outbox sends the last ops and half-closes the session stream; the
        # node then ends the job (its workers stop, its last output lines are published
        # and the log stream ends) and completes the stream once it has let go of it all.
        state.session.outbox.close()
        _wait_done(state.attach_call, DETACH_TIMEOUT_S)
    finally:
        state.attach_call.cancel()
        if state.log_monitor is not None:
            state.log_monitor.stop(LOG_DRAIN_TIMEOUT_S)
        state.transport.close()


def _wait_done(call, timeout: float) -> None:
    done = threading.Event()
    call.add_done_callback(lambda _: done.set())
    done.wait(timeout)


def is_initialized() -> bool:
    return context.current_session() is not None


def _auto_init() -> None:
    with _lock:
        if context.current_session() is None:
            init()


context.auto_init = _auto_init


# ----------------------------------------------------------------------------- objects


def _check_timeout(timeout) -> Optional[float]:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be None or a number of seconds, got {type(timeout).__name__}")
    if timeout == -1:
        return None
    if timeout < 0:
        raise ValueError(f"The 'timeout' argument must be nonnegative. Received {timeout}")
    return float(timeout)


def get(object_refs, *, timeout: Optional[float] = None):
    """Waits for the values of one ObjectRef or a list of them."""
    session = context.session_or_init()
    single = isinstance(object_refs, ObjectRef)
    refs = [object_refs] if single else object_refs
    if not isinstance(refs, list):
        raise ValueError(
            f"Invalid type of object refs, {type(object_refs)}, is given. "
            "'object_refs' must either be an ObjectRef or a list of ObjectRefs. "
        )
    for r in refs:
        if not isinstance(r, ObjectRef):
            raise TypeError(f"Attempting to call `get` on the value {r}, which is not an ray.ObjectRef.")
    timeout = _check_timeout(timeout)
    values = session.get([r.binary() for r in refs], timeout)
    return values[0] if single else values


def put(value, *, _owner=None) -> ObjectRef:
    """Stores a value in the cluster's object store; returns its ObjectRef."""
    session = context.session_or_init()
    if _owner is not None:
        raise ValueError("The experimental `_owner` argument to `ray.put` has been removed in Ray 2.56.")
    if isinstance(value, ObjectRef):
        raise TypeError(
            "Calling 'put' on an ray.ObjectRef is not allowed. "
            "If you really want to do this, you can wrap the "
            "ray.ObjectRef in a list and call 'put' on it."
        )
    return session.put(value)


def wait(
    object_refs: List[ObjectRef], *, num_returns: int = 1, timeout: Optional[float] = None, fetch_local: bool = True
):
    """Returns (ready, not_ready) once num_returns refs are ready or the timeout passes."""
    if isinstance(object_refs, ObjectRef):
        raise TypeError(
            "wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, "
            f"got a single ray.ObjectRef or ray.ObjectRefGenerator {object_refs}"
        )
    if not isinstance(object_refs, list):
        raise TypeError(f"wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got {type(object_refs)}")
    if timeout is not None and not isinstance(timeout, bool) and isinstance(timeout, numbers.Real) and timeout < 0:
        raise ValueError(f"The 'timeout' argument must be nonnegative. Received {timeout}")
    if set(map(type, object_refs)) - {ObjectRef}:  # the common case costs no Python-level loop
        for r in object_refs:
            if not isinstance(r, ObjectRef):
                raise TypeError(
                    f"wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got list containing {type(r)}"
                )
    object_ids = [r._id for r in object_refs]
    session = context.session_or_init()
    if len(object_refs) == 0:
        return [], []
    if len(object_ids) != len(set(object_ids)):
        raise ValueError("Wait requires a list of unique object refs.")
    if isinstance(num_returns, bool) or not isinstance(num_returns, int):
        raise TypeError(f"num_returns must be an int, got {type(num_returns).__name__}")
    if num_returns <= 0:
        raise ValueError(f"Invalid number of objects to return {num_returns}.")
    if num_returns > len(object_refs):
        raise ValueError("num_returns cannot be greater than the number of objects provided to ray.wait.")
    timeout = _check_timeout(timeout)
    if not isinstance(fetch_local, bool):
        raise TypeError(f"fetch_local must be a bool, got {type(fetch_local).__name__}")
    ready_indices = session.wait(object_ids, num_returns, timeout, fetch_local)
    if len(ready_indices) == len(object_refs) and num_returns == len(object_refs):
        return list(object_refs), []
    ready_indices = set(ready_indices)
    ready, not_ready = [], []
    for i, r in enumerate(object_refs):
        if i in ready_indices and len(ready) < num_returns:
            ready.append(r)
        else:
            not_ready.append(r)
    return ready, not_ready


def cancel(ray_waitable, *, force: bool = False, recursive: bool = True) -> None:
    """Cancels the task that produces ``ray_waitable``.

    A queued task is dropped; a running plain task gets KeyboardInterrupt (force=True: its
    worker is killed); a running async actor call has its asyncio task cancelled; a running
    ordered or threaded actor call only sees ``get_runtime_context().is_canceled()``.
    ray.get then raises TaskCancelledError. A finished task keeps its value. Cancelled tasks
    are not retried. recursive=True also cancels the tasks it submitted.
    """
    session = context.session_or_init()
    if not isinstance(ray_waitable, ObjectRef):
        raise TypeError(
            f"ray.cancel() only supported for object refs. For actors, try ray.kill(). Got: {type(ray_waitable)}."
        )
    object_id = ray_waitable.binary()
    if force and session.is_actor_call_return(object_id):
        raise ValueError("force=True is not supported for actor tasks.")
    session.outbox.cancel_task(object_id[: ids.TASK_ID_SIZE], bool(force), bool(recursive))


def get_gpu_ids() -> list:
    """The GPU ids leased to the calling task or actor (empty in a driver, as in Ray)."""
    session = context.session_or_init()
    if session.mode != WORKER_MODE:
        return []
    leased = context.task_context.gpu_ids
    return list(context.actor_gpu_ids if leased is None else leased)


# ----------------------------------------------------------------------------- cluster state


def nodes() -> List[Dict[str, Any]]:
    """One dict per node, with Ray's keys."""
    session = context.require_session()
    out = []
    for n in session.nodes():
        out.append(
            {
                "NodeID": n.node_id.hex(),
                "Alive": n.alive,
                "NodeManagerAddress": n.node_ip,
                "NodeManagerHostname": n.hostname,
                "NodeManagerPort": n.node_manager_port,
                "ObjectManagerPort": n.node_manager_port,
                "ObjectStoreSocketName": n.arena_path,
                "RayletSocketName": f"{n.node_ip}:{n.node_manager_port}",
                "MetricsExportPort": 0,
                "NodeName": n.node_ip,
                "alive": n.alive,
                "Resources": dict(n.total_resources) if n.alive else {},
                "Labels": {},
                "IsHead": n.is_head,
            }
        )
    return out


def cluster_resources() -> Dict[str, float]:
    """Total resources of the live nodes."""
    session = context.require_session()
    return _sum(dict(n.total_resources) for n in session.nodes() if n.alive)


def available_resources() -> Dict[str, float]:
    """Resources free now on the live nodes (this node's figures are current, others' recent)."""
    session = context.require_session()
    local = session.node_call("GetNodeResources", nm.GetNodeResourcesRequest(), nm.GetNodeResourcesReply)
    maps = []
    for n in session.nodes():
        if not n.alive:
            continue
        maps.append(dict(local.available) if n.node_id == session.node_id else dict(n.available_resources))
    return {k: v for k, v in _sum(maps).items() if v > 0}


def _sum(maps) -> Dict[str, float]:
    total: Dict[str, float] = {}
    for m in maps:
        for k, v in m.items():
            total[k] = total.get(k, 0.0) + v
    return total


# ----------------------------------------------------------------------------- remote


def remote(*args, **kwargs):
    """``@ray.remote`` or ``@ray.remote(**options)`` on a function or a class."""
    from ray._private.options import REMOTE_DECORATOR_ERROR
    from ray.actor import ActorClass
    from ray.remote_function import RemoteFunction

    def make(target, options):
        if inspect.isclass(target):
            return ActorClass._from_class(target, options)
        if not callable(target):
            raise TypeError("The @ray.remote decorator must be applied to either a function or a class.")
        return RemoteFunction(target, options)

    if len(args) == 1 and not kwargs and callable(args[0]):
        return make(args[0], {})
    if args or not kwargs:
        # Positional arguments, or empty parentheses (@ray.remote()): Ray's AssertionError.
        raise AssertionError(REMOTE_DECORATOR_ERROR)
    # Options are checked when the decorator is applied, against the kind of target (as Ray).
    return lambda target: make(target, kwargs)


def get_runtime_context():
    """Who and where the caller is: a ray.runtime_context.RuntimeContext."""
    from ray.runtime_context import RuntimeContext

    return RuntimeContext(context.session_or_init())
