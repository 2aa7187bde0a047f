"""Ray's Python API, on an engine that runs on the JVM.

Programs written for Ray run unchanged: ``ray.init()``, ``@ray.remote``, ``.remote()``,
``ray.get``, ``ray.put``, ``ray.wait``. The engine (scheduler, object store, node manager,
control service) is Java; tasks run in worker JVMs that embed CPython through Jep.
"""

__version__ = "0.1.0"

# As in Ray, `import ray` makes ray.util reachable too.
from ray import (
    cloudpickle,  # noqa: E402
    cross_language,  # noqa: E402, F401 - ray.cross_language, as in Ray
    exceptions,  # noqa: E402
    job_config,  # noqa: E402
    types,  # noqa: E402
    util,  # noqa: E402
)
from ray._private.api import (  # noqa: E402
    available_resources,
    cancel,
    cluster_resources,
    get,
    get_gpu_ids,
    get_runtime_context,
    init,
    is_initialized,
    nodes,
    put,
    remote,
    shutdown,
    wait,
)
from ray._private.generators import DynamicObjectRefGenerator, ObjectRefGenerator  # noqa: E402
from ray._private.object_ref import ObjectRef  # noqa: E402
from ray.actor import ActorClass, ActorHandle, get_actor, kill, method  # noqa: E402
from ray.remote_function import RemoteFunction  # noqa: E402

__all__ = [
    "ActorClass",
    "ActorHandle",
    "get_actor",
    "kill",
    "method",
    "__version__",
    "available_resources",
    "cancel",
    "cluster_resources",
    "cloudpickle",
    "exceptions",
    "job_config",
    "types",
    "get",
    "get_gpu_ids",
    "get_runtime_context",
    "init",
    "is_initialized",
    "nodes",
    "put",
    "remote",
    "shutdown",
    "wait",
    "ObjectRef",
    "ObjectRefGenerator",
    "DynamicObjectRefGenerator",
    "RemoteFunction",
    "util",
]


def __getattr__(name):
    # ray.data loads on first use (it needs pyarrow), as in Ray: `import ray` then `ray.data.*`.
    if name == "data":
        import importlib

        return importlib.import_module("ray.data")
    raise AttributeError(f"module 'ray' has no attribute {name!r}")
