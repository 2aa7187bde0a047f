"""A real S3 endpoint for tests: s3proxy (fetched by `make build`) on a filesystem backend, on a
free loopback port, with its own keys (requests with other keys are refused)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
JAR = REPO / "target" / "s3proxy" / "s3proxy-2.6.0-jar-with-dependencies.jar"
KEY, SECRET = "ray-test-key", "ray-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    def __init__(self, workdir: Path):
        if not JAR.exists():
            raise RuntimeError(f"{JAR} is missing: `make build` fetches it")
        self.port = _free_port()
        data = workdir / "s3data"
        data.mkdir(parents=True, exist_ok=True)
        props = workdir / "s3proxy.properties"
        props.write_text(
            "\n".join(
                [
                    f"s3proxy.endpoint=http://127.0.0.1:{self.port}",
                    "s3proxy.authorization=aws-v2-or-v4",
                    f"s3proxy.identity={KEY}",
                    f"s3proxy.credential={SECRET}",
                    "jclouds.provider=filesystem",
                    f"jclouds.filesystem.basedir={data}",
                ]
            )
        )
        java = os.path.join(os.environ.get("JAVA_HOME", "/usr"), "bin", "java")
        self.log = open(workdir / "s3proxy.log", "w")
        self.proc = subprocess.Popen(
            [java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", str(JAR), "--properties", str(props)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 180
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"s3proxy exited with {self.proc.returncode}; see {workdir / 's3proxy.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("s3proxy did not listen within 180 s") from None
                time.sleep(0.2)

    @property
    def env(self) -> dict:
        """The standard AWS variables that point pyarrow (and so Ray Data) at this endpoint."""
        return {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.port}",
            "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            # s3proxy does not implement the SDK's newer default checksums.
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        }

    def filesystem(self):
        import pyarrow.fs as pafs

        return pafs.S3FileSystem(
            access_key=KEY,
            secret_key=SECRET,
            endpoint_override=f"http://127.0.0.1:{self.port}",
            region="us-east-1",
            allow_bucket_creation=True,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.log.close()
