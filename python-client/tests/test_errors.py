"""Failures: task exceptions, unpicklable values, crashed workers and retries."""

from __future__ import annotations

import os
import threading

import pytest

import ray
from ray.exceptions import RayError, RayTaskError, WorkerCrashedError

GET_TIMEOUT = 90


class MyCustomError(Exception):
    """Defined in the test module: workers import it by reference."""


class ErrorWithRequiredArgs(Exception):
    """__init__ needs two arguments; Ray must not call it to build its RayTaskError."""

    def __init__(self, code, detail):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


class ErrorWithFormattedMessage(Exception):
    """__init__ needs two arguments but passes one message to Exception: pickle's default
    reconstruction (cls(*args)) cannot rebuild it."""

    def __init__(self, code, detail):
        super().__init__(f"code {code}: {detail}")
        self.code = code


@ray.remote
def raise_value_error(x):
    if x > 0:
        raise ValueError(f"bad value {x}")  # the raising line
    return x


@ray.remote
def raise_custom_error():
    raise MyCustomError("custom failure text")


@ray.remote
def raise_error_with_required_args():
    raise ErrorWithRequiredArgs(17, "needs two args")


@ray.remote
def raise_error_with_formatted_message():
    raise ErrorWithFormattedMessage(5, "formatted")


@ray.remote
def call_failing_inner():
    return ray.get(raise_value_error.remote(3))


@ray.remote
def return_a_lock():
    return threading.Lock()


@ray.remote
def echo(x):
    return x


@ray.remote(max_retries=0)
def die():
    os._exit(1)


def _die_on_first_attempt(marker):
    """The first attempt records its pid and kills its worker; the next one succeeds."""
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        os._exit(1)
    return os.getpid()


die_on_first_attempt = ray.remote(_die_on_first_attempt)
die_on_first_attempt_retried_once = ray.remote(max_retries=1)(_die_on_first_attempt)


def _still_works():
    assert ray.get(echo.remote("alive"), timeout=GET_TIMEOUT) == "alive"


# ----------------------------------------------------------------------------- task exceptions


def test_task_exception_is_a_ray_task_error_and_the_users_class(ray_cluster):
    ref = raise_value_error.remote(42)
    with pytest.raises(RayTaskError) as info:
        ray.get(ref, timeout=GET_TIMEOUT)
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, RayError)
    message = str(error)
    assert "raise_value_error" in message
    assert 'raise ValueError(f"bad value {x}")' in message  # the raising line, from the remote traceback
    assert "bad value 42" in message
    assert "Traceback" in message or "File " in message
    # `except ValueError` catches it, as in Ray.
    with pytest.raises(ValueError):
        ray.get(ref, timeout=GET_TIMEOUT)


def test_task_exception_in_a_list_get(ray_cluster):
    refs = [echo.remote(1), raise_value_error.remote(7)]
    with pytest.raises(ValueError, match="bad value 7"):
        ray.get(refs, timeout=GET_TIMEOUT)


def test_custom_exception_class_from_the_test_module(ray_cluster):
    with pytest.raises(MyCustomError) as info:
        ray.get(raise_custom_error.remote(), timeout=GET_TIMEOUT)
    assert isinstance(info.value, RayTaskError)
    assert "custom failure text" in str(info.value)
    assert "raise_custom_error" in str(info.value)
    assert isinstance(info.value.cause, MyCustomError)


def test_engine_and_driver_keep_working_after_a_task_error(ray_cluster):
    for _ in range(3):
        with pytest.raises(RayTaskError):
            ray.get(raise_value_error.remote(1), timeout=GET_TIMEOUT)
    _still_works()
    assert ray.get([raise_value_error.remote(0), echo.remote(2)], timeout=GET_TIMEOUT) == [0, 2]


def test_exception_class_with_required_init_args(ray_cluster):
    with pytest.raises(ErrorWithRequiredArgs) as info:
        ray.get(raise_error_with_required_args.remote(), timeout=GET_TIMEOUT)
    error = info.value
    assert isinstance(error, RayTaskError)
    assert error.code == 17 and error.detail == "needs two args"
    assert "needs two args" in str(error)
    _still_works()


def test_exception_that_pickle_cannot_rebuild_still_reports_a_ray_error(ray_cluster):
    """Ray raises a RayError (UnserializableException) carrying the original text, not the
    TypeError that rebuilding the exception on the driver would raise."""
    with pytest.raises(RayError) as info:
        ray.get(raise_error_with_formatted_message.remote(), timeout=GET_TIMEOUT)
    assert "code 5: formatted" in str(info.value)
    _still_works()


def test_error_raised_by_a_nested_get_propagates(ray_cluster):
    with pytest.raises(ValueError) as info:
        ray.get(call_failing_inner.remote(), timeout=GET_TIMEOUT)
    assert isinstance(info.value, RayTaskError)
    assert "bad value 3" in str(info.value)


def test_unpicklable_return_value_errors_on_get(ray_cluster):
    ref = return_a_lock.remote()
    with pytest.raises(RayTaskError) as info:
        ray.get(ref, timeout=GET_TIMEOUT)
    assert isinstance(info.value, TypeError)
    assert "lock" in str(info.value)
    _still_works()


# ----------------------------------------------------------------------------- unpicklable values


def test_unpicklable_argument_raises_type_error_at_submit(ray_cluster):
    lock = threading.Lock()
    with pytest.raises(TypeError) as info:
        echo.remote(lock)
    assert "_thread.lock" in str(info.value)
    with pytest.raises(TypeError, match="_thread.lock"):
        echo.remote(x=lock)
    with pytest.raises(TypeError, match="lock"):
        echo.remote([1, lock])
    _still_works()


def test_put_of_an_unpicklable_value_raises_type_error(ray_cluster):
    lock = threading.Lock()
    with pytest.raises(TypeError, match="lock"):
        ray.put(lock)
    with pytest.raises(TypeError):
        ray.put({"lock": lock})
    assert ray.get(ray.put("fine")) == "fine"


# ----------------------------------------------------------------------------- crashes and retries


def test_worker_crash_without_retries_raises_worker_crashed_error(ray_cluster, tmp_path):
    with pytest.raises(WorkerCrashedError, match=r"task die \(pid=\d+, process exited with code 1\)") as info:
        ray.get(die.remote(), timeout=GET_TIMEOUT)
    assert "It was not retried: max_retries=0." in str(info.value)
    marker = tmp_path / "first-attempt"
    with pytest.raises(WorkerCrashedError):
        ray.get(die_on_first_attempt.options(max_retries=0).remote(str(marker)), timeout=GET_TIMEOUT)
    assert marker.exists()
    _still_works()


@ray.remote
def always_die(attempts_dir):
    # One file per attempt, then the worker dies: Ray's default max_retries (3) gives four.
    with open(os.path.join(attempts_dir, str(os.getpid())), "w"):
        pass
    os._exit(2)


def test_a_task_that_always_crashes_is_retried_three_times_by_default(ray_cluster, tmp_path):
    with pytest.raises(WorkerCrashedError, match="It was retried 3 times; every attempt died."):
        ray.get(always_die.remote(str(tmp_path)), timeout=GET_TIMEOUT)
    assert len(os.listdir(tmp_path)) == 4
    _still_works()


def test_worker_crash_is_retried_with_max_retries_option(ray_cluster, tmp_path):
    marker = tmp_path / "first-attempt"
    pid = ray.get(die_on_first_attempt.options(max_retries=1).remote(str(marker)), timeout=GET_TIMEOUT)
    assert marker.exists(), "the first attempt never ran"
    assert pid != int(marker.read_text()), "the retry must run in a new worker process"
    _still_works()


def test_worker_crash_is_retried_with_max_retries_in_the_decorator(ray_cluster, tmp_path):
    marker = tmp_path / "first-attempt"
    pid = ray.get(die_on_first_attempt_retried_once.remote(str(marker)), timeout=GET_TIMEOUT)
    assert pid != int(marker.read_text())
