"""Actor output reaches the driver prefixed ``(<ClassName> pid=<actor pid>)``, or with the
actor's own ``__repr__`` where its class defines one, as Ray does.

One driver script runs in its own process, so that its streams are the test's to read.
"""

from __future__ import annotations

import re
import textwrap

import pytest
from conftest import run_script

DRIVER = textwrap.dedent(
    """
    import os
    import sys

    import ray

    ray.init(num_cpus=2)

    @ray.remote
    class Counter:
        def __init__(self):
            print("counter init")

        def say(self, text):
            print(f"counter says {text}")
            print(f"counter warns {text}", file=sys.stderr)
            return os.getpid()

    @ray.remote
    class Custom:
        def __init__(self, n):
            self.n = n
            print("custom init")

        def __repr__(self):
            return f"MyCounter({self.n})"

        def say(self, text):
            print(f"custom says {text}")
            return os.getpid()

    @ray.remote
    class Chatty:
        async def say(self, text):
            print(f"async says {text}")
            return os.getpid()

    c, m, a = Counter.remote(), Custom.remote(7), Chatty.remote()
    pids = ray.get([c.say.remote("one"), m.say.remote("two"), a.say.remote("three")])
    ray.shutdown()
    # After shutdown no worker output is being printed any more: these lines stay whole.
    sys.stdout.write(f"DRIVER_PID {os.getpid()}\\n")
    sys.stdout.write(f"ACTOR_PIDS {pids[0]} {pids[1]} {pids[2]}\\n")
    sys.stdout.write("DRIVER_DONE\\n")
    """
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("actor_logs")
    script = tmp / "driver.py"
    script.write_text(DRIVER)
    result = run_script(script, cwd=tmp, timeout=120)
    assert result.returncode == 0, f"driver failed:\n{result.stdout}\n{result.stderr}"
    assert "DRIVER_DONE" in result.stdout, result.stdout
    m = re.search(r"ACTOR_PIDS (\d+) (\d+) (\d+)", result.stdout)
    assert m, result.stdout
    driver_pid = int(re.search(r"DRIVER_PID (\d+)", result.stdout).group(1))
    # Colour codes around the prefix (Ray adds them on some terminals) do not matter here.
    result.stdout, result.stderr = _plain(result.stdout), _plain(result.stderr)
    return result, [int(p) for p in m.groups()], driver_pid


def _plain(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_actor_prints_carry_class_name_and_actor_pid(run):
    result, (counter_pid, _, _), driver_pid = run
    assert counter_pid != driver_pid
    out, err = result.stdout.splitlines(), result.stderr.splitlines()
    assert f"(Counter pid={counter_pid}) counter says one" in out, result.stdout
    assert f"(Counter pid={counter_pid}) counter init" in out, result.stdout
    assert f"(Counter pid={counter_pid}) counter warns one" in err, result.stderr
    assert "counter warns one" not in result.stdout


def test_actor_with_own_repr_uses_it_as_prefix(run):
    result, (_, custom_pid, _), _ = run
    out = result.stdout.splitlines()
    assert f"(MyCounter(7) pid={custom_pid}) custom says two" in out, result.stdout
    # While __init__ runs there is no instance to ask yet: the class name, as in Ray.
    assert f"(Custom pid={custom_pid}) custom init" in out, result.stdout
    assert not any(line.startswith("(Custom ") and "custom says" in line for line in out)


def test_async_actor_prints_carry_its_prefix(run):
    result, (_, _, async_pid), _ = run
    assert f"(Chatty pid={async_pid}) async says three" in result.stdout.splitlines(), result.stdout
