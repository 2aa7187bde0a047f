"""runtime_env: env_vars, working_dir and py_modules (Ray's fields; the others raise).

Driver side (any submitting process): a user's runtime_env dict is validated, its local
directories and files are zipped deterministically and uploaded once to the control service's
KV (namespace ``runtime_env``, key ``<sha1>.zip``), and the result is a ``RuntimeEnv`` message
holding the keys. The job's env (ray.init / JobConfig) is merged into every task's and actor's
own as Ray documents: per top-level field the task's wins, env_vars merge per variable.

Worker side: the node starts a worker per env hash, with env_vars already in its process
environment; ``setup_worker`` unpacks each package once per node under
``<session_dir>/runtime_resources/<sha1>/`` and puts it on sys.path (working_dir first, and
the worker's cwd).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import threading
import types
import zipfile
from typing import Any, Dict, List, Optional, Tuple

from ray.rpc import common_pb2 as common
from ray.rpc import control_service_pb2 as control

KV_NAMESPACE = "runtime_env"
SUPPORTED_FIELDS = ("env_vars", "working_dir", "py_modules", "excludes")
# Ray's limit for an uploaded package (its gRPC message limit); ours is the same.
MAX_PACKAGE_BYTES = 512 * 1024 * 1024
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = ("__pycache__",)


def _unsupported(field: str) -> ValueError:
    return ValueError(
        f"runtime_env field '{field}' is not supported by this Ray (Ray on the JVM); "
        f"supported fields are {', '.join(SUPPORTED_FIELDS)}."
    )


def validate(runtime_env: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Checks a user's runtime_env dict (types and supported fields); returns a plain dict."""
    if runtime_env is None:
        return None
    if not isinstance(runtime_env, dict):
        raise TypeError(f"runtime_env must be a dict, got {type(runtime_env).__name__}")
    env = dict(runtime_env)
    for field in env:
        if field not in SUPPORTED_FIELDS:
            raise _unsupported(field)
    env_vars = env.get("env_vars")
    if env_vars is not None:
        if not isinstance(env_vars, dict):
            raise TypeError(f"runtime_env['env_vars'] must be of type Dict[str, str], got {type(env_vars)}")
        for key, value in env_vars.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(
                    f"runtime_env['env_vars'] must be of type Dict[str, str], got key {key!r} ({type(key)}) "
                    f"with value {value!r} ({type(value)})"
                )
    working_dir = env.get("working_dir")
    if working_dir is not None:
        if not isinstance(working_dir, (str, os.PathLike)):
            raise TypeError(f"working_dir must be a string or pathlib.Path, got {type(working_dir)}.")
        _check_local(str(working_dir), "working_dir")
        if not os.path.isdir(working_dir):
            raise ValueError(f"working_dir {str(working_dir)!r} must be an existing local directory here.")
    py_modules = env.get("py_modules")
    if py_modules is not None:
        if not isinstance(py_modules, list):
            raise TypeError(f"`py_modules` must be a list of strings or modules, got {type(py_modules)}.")
        for module in py_modules:
            if isinstance(module, types.ModuleType):
                _module_path(module)
            elif isinstance(module, (str, os.PathLike)):
                _check_local(str(module), "py_modules")
                path = str(module)
                if not (os.path.isdir(path) or (os.path.isfile(path) and path.endswith(".py"))):
                    raise ValueError(
                        f"py_modules entry {path!r} must be an existing local directory or .py file, or a module."
                    )
            else:
                raise TypeError(f"py_modules must be a list of file paths, URIs, or imported modules, got {module!r}.")
    excludes = env.get("excludes")
    if excludes is not None:
        if not isinstance(excludes, list) or not all(isinstance(p, str) for p in excludes):
            raise TypeError(f"runtime_env['excludes'] must be of type List[str], got {type(excludes)}")
        for pattern in excludes:
            if pattern.startswith("!") or "**" in pattern:
                raise ValueError(
                    f"runtime_env['excludes'] pattern {pattern!r}: negation ('!') and '**' are not supported here; "
                    "use plain names or glob patterns."
                )
    return env


def _check_local(path: str, field: str) -> None:
    if "://" in path:
        raise ValueError(
            f"runtime_env['{field}'] {path!r}: remote URIs are not supported by this Ray (Ray on the JVM); "
            "give a local path."
        )


def _module_path(module: types.ModuleType) -> str:
    path = getattr(module, "__file__", None)
    if not path:
        raise ValueError(f"py_modules: module {module.__name__!r} has no file to ship (namespace or built-in module).")
    if os.path.basename(path) == "__init__.py":
        return os.path.dirname(path)
    return path


# ----------------------------------------------------------------------------- packaging


def _excluded(rel: str, patterns: List[str]) -> bool:
    """Ray's excludes, the simple part of gitignore syntax: a pattern with a leading '/' (or a
    '/' inside) matches the path from the package root; otherwise any path component's name
    (or the relative path) matches."""
    name = os.path.basename(rel)
    for raw in patterns:
        pattern = raw.rstrip("/")
        if not pattern:
            continue
        if "/" in pattern:
            if fnmatch.fnmatchcase(rel, pattern.lstrip("/")):
                return True
        elif fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def _files(root: str, prefix: str, excludes: List[str]) -> List[Tuple[str, str]]:
    """(archive name, path) of every file to pack, sorted; ``__pycache__`` and excluded paths
    are left out."""
    if os.path.isfile(root):
        return [(prefix or os.path.basename(root), root)]
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        dirnames[:] = [
            d for d in dirnames if d not in _SKIPPED_DIRS and not _excluded(os.path.join(rel_dir, d), excludes)
        ]
        for f in filenames:
            rel = os.path.join(rel_dir, f)
            if f.endswith(".pyc") or _excluded(rel, excludes):
                continue
            out.append((os.path.join(prefix, rel) if prefix else rel, os.path.join(dirpath, f)))
    out.sort()
    return out


def _fingerprint(files: List[Tuple[str, str]]) -> Tuple:
    stats = []
    for name, path in files:
        st = os.stat(path)
        stats.append((name, st.st_size, st.st_mtime_ns, st.st_mode & 0o111))
    return tuple(stats)


def _zip(files: List[Tuple[str, str]]) -> bytes:
    """Same content, same bytes: sorted entries, fixed timestamps, normalized modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            executable = os.stat(path).st_mode & 0o111
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                archive.writestr(info, f.read())
    return buffer.getvalue()


class Packager:
    """Zips and uploads local paths once per content (per process: a cache keyed by the path
    and a stat fingerprint of its files, so repeated submissions neither re-zip nor re-upload)."""

    def __init__(self, control_call):
        self._control_call = control_call
        self._lock = threading.Lock()
        self._cache: Dict[Tuple, str] = {}
        self._uploaded: set = set()

    def package(self, path: str, prefix: str, excludes: List[str], field: str) -> str:
        """The KV key of the package of ``path`` (a directory's contents under ``prefix``)."""
        path = os.path.abspath(path)
        files = _files(path, prefix, excludes)
        cache_key = (path, prefix, tuple(excludes), _fingerprint(files))
        with self._lock:
            key = self._cache.get(cache_key)
            if key is not None:
                return key
        data = _zip(files)
        if len(data) > MAX_PACKAGE_BYTES:
            raise ValueError(
                f"Package size ({len(data) / 2**20:.2f}MiB) of runtime_env['{field}'] {path!r} exceeds the maximum "
                f"size of {MAX_PACKAGE_BYTES / 2**20:.2f}MiB. You can exclude large files using the 'excludes' option "
                "to the runtime_env."
            )
        key = hashlib.sha1(data).hexdigest() + ".zip"
        with self._lock:
            uploaded = key in self._uploaded
        if not uploaded:
            self._control_call(
                "KvPut",
                control.KvPutRequest(ns=KV_NAMESPACE, key=key.encode(), value=data, overwrite=False),
                control.KvPutReply,
            )
        with self._lock:
            self._uploaded.add(key)
            self._cache[cache_key] = key
        return key


def resolve(env: Optional[Dict[str, Any]], packager: Packager) -> Dict[str, Any]:
    """A validated user dict -> {env_vars, working_dir_key, py_modules_keys} (uploaded)."""
    out: Dict[str, Any] = {}
    if not env:
        return out
    excludes = list(env.get("excludes") or [])
    if "env_vars" in env:
        out["env_vars"] = dict(env["env_vars"] or {})
    if env.get("working_dir") is not None:
        out["working_dir_key"] = packager.package(str(env["working_dir"]), "", excludes, "working_dir")
    if env.get("py_modules") is not None:
        keys = []
        for module in env["py_modules"]:
            path = _module_path(module) if isinstance(module, types.ModuleType) else str(module)
            path = os.path.abspath(path)
            keys.append(packager.package(path, os.path.basename(path), excludes, "py_modules"))
        out["py_modules_keys"] = keys
    return out


def merge(parent: Dict[str, Any], child: Dict[str, Any]) -> Dict[str, Any]:
    """Ray's inheritance: per top-level field the child's wins; env_vars merge per variable."""
    merged = {**parent, **child}
    if "env_vars" in parent and "env_vars" in child:
        merged["env_vars"] = {**parent["env_vars"], **child["env_vars"]}
    return merged


def to_proto(resolved: Dict[str, Any]) -> common.RuntimeEnv:
    msg = common.RuntimeEnv()
    env_vars = resolved.get("env_vars") or {}
    msg.env_vars.update(env_vars)
    msg.working_dir_key = resolved.get("working_dir_key") or ""
    msg.py_modules_keys.extend(resolved.get("py_modules_keys") or [])
    if env_vars or msg.working_dir_key or msg.py_modules_keys:
        canonical = json.dumps(
            {
                "env_vars": sorted(env_vars.items()),
                "working_dir": msg.working_dir_key,
                "py_modules": list(msg.py_modules_keys),
            },
            sort_keys=True,
        )
        msg.hash = hashlib.sha1(canonical.encode()).hexdigest()
    return msg


def from_proto(msg: common.RuntimeEnv) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if msg.env_vars:
        out["env_vars"] = dict(msg.env_vars)
    if msg.working_dir_key:
        out["working_dir_key"] = msg.working_dir_key
    if msg.py_modules_keys:
        out["py_modules_keys"] = list(msg.py_modules_keys)
    return out


class TaskEnvCache:
    """The merged RuntimeEnv of one set of options, resolved once per session."""

    __slots__ = ("_session", "_env", "_proto")

    def __init__(self, env: Optional[Dict[str, Any]]):
        self._session = None
        self._env = env
        self._proto = None

    def get(self, session) -> common.RuntimeEnv:
        if self._session is not session:
            own = resolve(self._env, session.packager) if self._env else {}
            self._proto = to_proto(merge(session.base_runtime_env, own))
            self._session = session
        return self._proto


# ----------------------------------------------------------------------------- worker side


def _unpack(key: str, resources_dir: str, control_call) -> str:
    """The directory holding package ``key`` on this node; fetched and unpacked once.

    Extracted into a temporary sibling and renamed into place: concurrent workers either see
    the complete directory or none, and a loser of the race drops its copy."""
    target = os.path.join(resources_dir, key[: -len(".zip")] if key.endswith(".zip") else key)
    if os.path.isdir(target):
        return target
    reply = control_call("KvGet", control.KvGetRequest(ns=KV_NAMESPACE, key=key.encode()), control.KvGetReply)
    if not reply.found:
        raise RuntimeError(f"runtime_env package {key} is not in the cluster's store")
    os.makedirs(resources_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".unpack-", dir=resources_dir)
    try:
        with zipfile.ZipFile(io.BytesIO(reply.value)) as archive:
            for info in archive.infolist():
                archive.extract(info, staging)
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    os.chmod(os.path.join(staging, info.filename), mode)
        try:
            os.rename(staging, target)
        except OSError:
            if not os.path.isdir(target):
                raise
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return target


def setup_worker(env: common.RuntimeEnv, session_dir: str, control_call) -> None:
    """Prepares this worker's Python for its runtime_env: packages unpacked, working_dir as cwd
    and first on sys.path, py_modules on sys.path. (env_vars were set by the node.)"""
    if not env.working_dir_key and not env.py_modules_keys:
        return
    resources = os.path.join(session_dir, "runtime_resources")
    for key in reversed(list(env.py_modules_keys)):
        sys.path.insert(0, _unpack(key, resources, control_call))
    if env.working_dir_key:
        directory = _unpack(env.working_dir_key, resources, control_call)
        os.chdir(directory)
        sys.path.insert(0, directory)
