"""runtime_env: env_vars, working_dir and py_modules, at job level and per task/actor.

One driver process (a script run once for the module, so that its job-level env, its cwd and
its sys.path are its own) exercises every case on one local cluster and prints a JSON report;
the tests check parts of it. Validation errors need no cluster and run in this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile

import pytest

import ray
from ray._private import runtime_env as renv

DRIVER = textwrap.dedent(
    """
    import json, os, sys
    import ray
    from ray.job_config import JobConfig

    work, mods = sys.argv[1], sys.argv[2]
    ray.init(
        num_cpus=2,
        log_to_driver=False,
        job_config=JobConfig(runtime_env={"env_vars": {"JOB_VAR": "job", "SHARED": "from-job"}}),
    )
    report = {"driver_pid": os.getpid(), "driver_cwd": os.getcwd()}

    @ray.remote
    def probe():
        return {
            "pid": os.getpid(),
            "cwd": os.getcwd(),
            "vars": {k: os.environ.get(k) for k in ("JOB_VAR", "SHARED", "TASK_VAR")},
        }

    @ray.remote
    class Probe:
        def look(self):
            return {"pid": os.getpid(), "vars": {k: os.environ.get(k) for k in ("JOB_VAR", "SHARED", "TASK_VAR")}}

    report["default"] = ray.get(probe.remote())
    task_env = {"env_vars": {"TASK_VAR": "task", "SHARED": "from-task"}}
    report["task"] = ray.get(probe.options(runtime_env=task_env).remote())
    report["actor_default"] = ray.get(Probe.remote().look.remote())
    report["actor"] = ray.get(Probe.options(runtime_env=task_env).remote().look.remote())

    @ray.remote(runtime_env={"working_dir": work, "excludes": ["skipped.txt"]})
    def in_working_dir():
        import shipped_module
        # (Importing may have written this worker's own __pycache__ here; the shipped one
        # held junk.pyc, which must not have been packed.)
        return {"cwd": os.getcwd(), "files": sorted(f for f in os.listdir(".") if f != "__pycache__"),
                "junk_shipped": os.path.exists(os.path.join("__pycache__", "junk.pyc")),
                "value": shipped_module.VALUE,
                "from": shipped_module.__file__, "vars": os.environ.get("JOB_VAR")}

    report["working_dir"] = ray.get(in_working_dir.remote())

    @ray.remote
    def with_modules():
        import shipped_pkg, single_file
        @ray.remote
        def nested():
            import shipped_pkg
            return shipped_pkg.NAME
        return [shipped_pkg.NAME, single_file.NAME, ray.get(nested.remote())]

    report["py_modules"] = ray.get(
        with_modules.options(runtime_env={"py_modules": [os.path.join(mods, "shipped_pkg"),
                                                         os.path.join(mods, "single_file.py")]}).remote()
    )
    print("REPORT " + json.dumps(report), flush=True)
    """
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    base = tmp_path_factory.mktemp("renv")
    work = base / "work"
    work.mkdir()
    (work / "shipped_module.py").write_text("VALUE = 42\n")
    (work / "data.txt").write_text("hello\n")
    (work / "skipped.txt").write_text("excluded\n")
    (work / "__pycache__").mkdir()
    (work / "__pycache__" / "junk.pyc").write_bytes(b"x")
    mods = base / "mods"
    (mods / "shipped_pkg").mkdir(parents=True)
    (mods / "shipped_pkg" / "__init__.py").write_text("NAME = 'pkg'\n")
    (mods / "single_file.py").write_text("NAME = 'file'\n")
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    script = base / "driver.py"
    script.write_text(DRIVER)
    result = subprocess.run(
        [sys.executable, str(script), str(work), str(mods)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("REPORT ")]
    return json.loads(line[len("REPORT ") :])


def test_job_env_vars_reach_tasks_and_actors(report):
    for case in ("default", "actor_default"):
        assert report[case]["vars"] == {"JOB_VAR": "job", "SHARED": "from-job", "TASK_VAR": None}, case


def test_task_env_vars_merge_with_the_jobs(report):
    # Ray's inheritance: env_vars merge per variable, the task's value wins.
    for case in ("task", "actor"):
        assert report[case]["vars"] == {"JOB_VAR": "job", "SHARED": "from-task", "TASK_VAR": "task"}, case


def test_a_different_env_runs_in_a_different_worker(report):
    assert report["task"]["pid"] != report["default"]["pid"]
    assert report["actor"]["pid"] not in (report["default"]["pid"], report["actor_default"]["pid"])


def test_working_dir_is_importable_and_the_cwd(report):
    wd = report["working_dir"]
    assert wd["value"] == 42
    assert wd["cwd"] != report["driver_cwd"]
    assert "runtime_resources" in wd["cwd"]
    assert wd["from"].startswith(wd["cwd"])
    # __pycache__ and excluded files are not shipped.
    assert wd["files"] == ["data.txt", "shipped_module.py"]
    assert not wd["junk_shipped"]
    assert wd["vars"] == "job"  # the job's env_vars still apply: only working_dir was given


def test_py_modules_are_importable_in_tasks_and_their_children(report):
    assert report["py_modules"] == ["pkg", "file", "pkg"]


# ----------------------------------------------------------------------------- no cluster


@pytest.mark.parametrize("field", ["pip", "conda", "container", "uv", "image_uri", "py_executable", "config"])
def test_unsupported_fields_raise_naming_them(field):
    with pytest.raises(ValueError, match=f"runtime_env field '{field}' is not supported"):

        @ray.remote(runtime_env={field: "x"})
        def f():
            pass

    with pytest.raises(ValueError, match=f"runtime_env field '{field}' is not supported"):
        ray.init(runtime_env={field: "x"})
    assert not ray.is_initialized()


def test_bad_values_raise_rays_errors(tmp_path):
    with pytest.raises(TypeError, match=r"runtime_env\['env_vars'\] must be of type Dict\[str, str\]"):
        ray.remote(runtime_env={"env_vars": {"A": 1}})(lambda: None)
    with pytest.raises(ValueError, match="remote URIs are not supported"):
        ray.remote(runtime_env={"working_dir": "s3://bucket/x.zip"})(lambda: None)
    with pytest.raises(ValueError, match="must be an existing local directory"):
        ray.remote(runtime_env={"working_dir": str(tmp_path / "missing")})(lambda: None)


def test_job_config_fields_we_do_not_support_raise():
    from ray.job_config import JobConfig

    with pytest.raises(NotImplementedError, match="jvm_options"):
        JobConfig(jvm_options=["-Xmx1g"])
    with pytest.raises(NotImplementedError, match="metadata"):
        JobConfig(metadata={"a": "b"})
    assert JobConfig(runtime_env={"env_vars": {"A": "b"}}, ray_namespace="ns").ray_namespace == "ns"


def test_packages_are_deterministic_and_cached(tmp_path):
    (tmp_path / "b.py").write_text("B = 1\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py").write_text("X = 1\n")
    uploads = []
    packager = renv.Packager(lambda method, req, reply: (uploads.append(req.key), reply())[1])
    first = packager.package(str(tmp_path), "", [], "working_dir")
    assert packager.package(str(tmp_path), "", [], "working_dir") == first
    assert uploads == [first.encode()]  # zipped and uploaded once
    again = renv.Packager(lambda method, req, reply: reply()).package(str(tmp_path), "", [], "working_dir")
    assert again == first  # same content, same SHA-1 (fixed timestamps, sorted entries)
    (tmp_path / "b.py").write_text("B = 22\n")
    assert packager.package(str(tmp_path), "", [], "working_dir") != first
    files = renv._files(str(tmp_path), "", [])
    with zipfile.ZipFile(__import__("io").BytesIO(renv._zip(files))) as z:
        assert z.namelist() == ["a/x.py", "b.py"]
    assert renv.to_proto({}).hash == ""
    h1 = renv.to_proto({"env_vars": {"A": "1", "B": "2"}}).hash
    assert h1 and h1 == renv.to_proto({"env_vars": {"B": "2", "A": "1"}}).hash
