"""Options Ray documents that this runtime does not carry out yet raise an error naming them;
their defaults are accepted. (No cluster needed: options are checked when they are given.)"""

from __future__ import annotations

import pytest

import ray
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy


def f():
    return 1


class C:
    pass


NOT_BUILT = [
    ("label_selector", {"zone": "a"}),
    ("accelerator_type", "A100"),
]


@pytest.mark.parametrize("key,value", NOT_BUILT)
def test_a_task_option_not_built_yet_raises_naming_it(key, value):
    with pytest.raises(NotImplementedError, match=key):
        ray.remote(**{key: value})(f)
    with pytest.raises(NotImplementedError, match=key):
        ray.remote(f).options(**{key: value})


@pytest.mark.parametrize(
    "key,value",
    NOT_BUILT
    + [
        ("concurrency_groups", {"io": 2}),
        ("max_pending_calls", 10),
        ("allow_out_of_order_execution", True),
        ("object_store_memory", 1 << 20),
    ],
)
def test_an_actor_option_not_built_yet_raises_naming_it(key, value):
    with pytest.raises(NotImplementedError, match=key):
        ray.remote(**{key: value})(C)


def test_their_defaults_are_accepted():
    ray.remote(
        scheduling_strategy="DEFAULT",
        placement_group="default",
        placement_group_bundle_index=-1,
        placement_group_capture_child_tasks=None,
        label_selector={},
        accelerator_type=None,
    )(f)
    ray.remote(concurrency_groups=None, max_pending_calls=-1, allow_out_of_order_execution=False)(C)


@pytest.mark.parametrize(
    "options",
    [
        {"scheduling_strategy": PlacementGroupSchedulingStrategy(object())},
        {"placement_group": object()},
    ],
)
def test_a_placement_group_that_is_not_one_is_a_type_error(options):
    with pytest.raises(TypeError, match="PlacementGroup"):
        ray.remote(**options)(f)
    with pytest.raises(TypeError, match="PlacementGroup"):
        ray.remote(**options)(C)


def test_an_unknown_scheduling_strategy_is_a_value_error():
    with pytest.raises(ValueError, match="scheduling_strategy"):
        ray.remote(scheduling_strategy="PACKED")(f)
