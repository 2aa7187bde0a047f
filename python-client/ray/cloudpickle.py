"""``ray.cloudpickle``: the cloudpickle this runtime ships functions and classes with.

Ray bundles its own copy under this name; libraries import it from here (``from ray import
cloudpickle``). Ours is the pinned ``cloudpickle`` package, re-exported.
"""

from cloudpickle import *  # noqa: F401,F403
from cloudpickle import (  # noqa: F401
    CloudPickler,
    Pickler,
    dump,
    dumps,
    load,
    loads,
    register_pickle_by_value,
    unregister_pickle_by_value,
)
