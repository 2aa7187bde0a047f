"""ray.job_config.JobConfig: Ray's constructor; the fields this engine does not support raise
when given a non-default value (never accepted and ignored)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ray._private import runtime_env as runtime_env_mod


def _not_supported(name: str) -> NotImplementedError:
    return NotImplementedError(f"JobConfig({name}=...) is not supported by this Ray (Ray on the JVM).")


class JobConfig:
    """The configuration of a job: its runtime_env and namespace (see ray.init(job_config=...))."""

    def __init__(
        self,
        jvm_options: Optional[List[str]] = None,
        code_search_path: Optional[List[str]] = None,
        runtime_env: Optional[dict] = None,
        _client_job: bool = False,
        metadata: Optional[dict] = None,
        ray_namespace: Optional[str] = None,
        default_actor_lifetime: str = "non_detached",
        _disable_job_level_lineage_reconstruction: bool = False,
        _py_driver_sys_path: Optional[List[str]] = None,
    ):
        for name, value, default in (
            ("jvm_options", jvm_options, None),
            ("_client_job", _client_job, False),
            ("metadata", metadata, None),
            ("_disable_job_level_lineage_reconstruction", _disable_job_level_lineage_reconstruction, False),
            ("_py_driver_sys_path", _py_driver_sys_path, None),
        ):
            if value != default and not (default is None and not value):
                raise _not_supported(name)
        self.jvm_options: List[str] = []
        # Where the job's Java workers load classes from (and Python workers, called from Java,
        # import modules from): directories and jars.
        self.code_search_path: List[str] = []
        if code_search_path:
            self.set_code_search_path(code_search_path)
        self.metadata: Dict[str, str] = {}
        self.runtime_env: Optional[Dict[str, Any]] = None
        self.ray_namespace: Optional[str] = None
        self.default_actor_lifetime = "non_detached"
        self.set_runtime_env(runtime_env)
        if ray_namespace is not None:
            self.set_ray_namespace(ray_namespace)
        self.set_default_actor_lifetime(default_actor_lifetime)

    def set_code_search_path(self, code_search_path: List[str]) -> None:
        if isinstance(code_search_path, str) or not all(isinstance(p, str) for p in code_search_path):
            raise TypeError(f"code_search_path must be a list of paths, got {code_search_path!r}")
        self.code_search_path = list(code_search_path)

    def set_metadata(self, key: str, value: str) -> None:
        raise _not_supported("metadata")

    def set_runtime_env(self, runtime_env: Optional[dict], validate: bool = False) -> None:
        self.runtime_env = runtime_env_mod.validate(runtime_env) if runtime_env else runtime_env

    def set_ray_namespace(self, ray_namespace: str) -> None:
        if not isinstance(ray_namespace, str):
            raise TypeError(f"ray_namespace must be a string, got {type(ray_namespace).__name__}")
        self.ray_namespace = ray_namespace

    def set_default_actor_lifetime(self, default_actor_lifetime: str) -> None:
        if default_actor_lifetime == "detached":
            raise _not_supported("default_actor_lifetime='detached'")
        if default_actor_lifetime != "non_detached":
            raise ValueError("Default actor lifetime must be one of `detached`, `non_detached`")
        self.default_actor_lifetime = default_actor_lifetime

    def set_py_logging_config(self, logging_config=None) -> None:
        if logging_config is not None:
            raise _not_supported("py_logging_config")

    @classmethod
    def from_json(cls, job_config_json: Dict[str, Any]) -> JobConfig:
        return cls(
            jvm_options=job_config_json.get("jvm_options"),
            code_search_path=job_config_json.get("code_search_path"),
            runtime_env=job_config_json.get("runtime_env"),
            metadata=job_config_json.get("metadata"),
            ray_namespace=job_config_json.get("ray_namespace"),
            default_actor_lifetime=job_config_json.get("default_actor_lifetime", "non_detached"),
        )
