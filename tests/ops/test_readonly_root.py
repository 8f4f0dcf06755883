"""The example app and its traffic run the way the Kubernetes manifest runs them.

``example-app.yaml`` gives both containers a read-only root filesystem and user 65534;
only the volumes a container mounts are writable. Each container is started here the
same way, everything taken from the files users deploy: the image's environment and
command (``deploy/compose/Dockerfile``), then the container's ``env``, ``command``,
``runAsUser``, ``readOnlyRootFilesystem`` and volume mounts (``example-app.yaml``).
In a private mount namespace (``unshare -m``) the root filesystem is remounted
read-only, and so is ``/dev/shm`` (stricter than a container, which has a private
writable one: the app must need nothing the manifest does not mount); each volume
mount becomes a fresh tmpfs, mode 0777 like an ``emptyDir``. A probe running as the
container's user checks the usual scratch places are read-only before the container's
command starts.

What differs from the cluster, and why:

* addresses: the app reaches a Valkey started outside the namespace over loopback
  (``unshare -m`` keeps the network), listens on a free port, and exports no traces
  (there is no collector here, and retrying exports would only slow its shutdown);
* the user keeps ``CAP_DAC_READ_SEARCH``, a right to read and nothing more: the
  interpreter of this virtualenv lives under ``/root`` (mode 0700), while the image
  has Python in ``/usr/local``, readable by all. Writes still pass every permission
  check a container applies.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import ServerProcess, free_port

from . import kit

MANIFEST = kit.DEPLOY / "kubernetes" / "example-app.yaml"
DOCKERFILE = kit.DEPLOY / "compose" / "Dockerfile"
APP_DIR = kit.DEPLOY / "app"  # the image's WORKDIR: `COPY deploy/app/ ./`
# uid 65534 is "nobody" in the python image, whose home does not exist.
HOME = "/nonexistent"
# The root itself, and where a process looks for scratch space when nothing tells it
# otherwise (tempfile's fallbacks, the working directory, shared memory).
SCRATCH_PLACES = ("/", "/tmp", "/var/tmp", "/dev/shm", str(APP_DIR))
SECRET_VALUE = "read-only-root-test-key"

# Runs as the container's user inside the namespace: every scratch place outside the
# volume mounts must refuse a new file with "Read-only file system", every mount must
# take one; then the container's command replaces it.
PROBE = """
import errno, json, os, sys, tempfile
writable, scratch = json.loads(sys.argv[1])
for place in scratch:
    try:
        handle, name = tempfile.mkstemp(dir=place)
    except OSError as exc:
        if exc.errno != errno.EROFS:
            sys.exit(f"probe: {place}: {exc}, expected a read-only file system")
        print(f"probe: {place} read-only", file=sys.stderr, flush=True)
    else:
        os.close(handle)
        os.unlink(name)
        sys.exit(f"probe: {place} is writable outside the container's volume mounts")
for place in writable:
    handle, name = tempfile.mkstemp(dir=place)
    os.close(handle)
    os.unlink(name)
os.execvp(sys.argv[2], sys.argv[2:])
"""


@dataclass(frozen=True)
class Container:
    """One container of the manifest, as the image and the manifest define it."""

    command: list[str]
    environment: dict[str, str]
    user: int
    read_only_root: bool
    tmpfs: dict[str, str]  # mount path -> tmpfs options

    def scratch_places(self) -> list[str]:
        """The scratch places no volume covers: each must be read-only."""
        return [
            place
            for place in SCRATCH_PLACES
            if not any(Path(place).is_relative_to(mount) for mount in self.tmpfs)
        ]

    def start(self, log: Path, **environment: str) -> subprocess.Popen[bytes]:
        """Starts it in a private mount namespace, writing stdout and stderr to ``log``."""
        # What the image would hold (this checkout with its venv, the interpreter) may
        # lie under a path the manifest mounts a volume on (a checkout under /tmp):
        # bound aside first, then back over the volume, read-only, as an image's files.
        hidden = [
            path
            for path in dict.fromkeys((kit.REPO, Path(sys.base_prefix).resolve()))
            if any(path.is_relative_to(mount) for mount in self.tmpfs)
        ]
        aside = Path(tempfile.mkdtemp(prefix="oas-image-", dir="/var/tmp")) if hidden else None
        if aside is not None:
            atexit.register(shutil.rmtree, aside, True)
        steps = []
        for index, path in enumerate(hidden):
            steps += [
                f"mkdir -p {aside}/{index}",
                f"mount --bind {shlex.quote(str(path))} {aside}/{index}",
            ]
        if self.read_only_root:
            steps += ["mount -o bind,remount,ro /", "mount -o bind,remount,ro /dev/shm"]
        for path, options in self.tmpfs.items():
            steps.append(f"mount -t tmpfs -o {options} tmpfs {shlex.quote(path)}")
        for index, path in enumerate(hidden):
            quoted = shlex.quote(str(path))
            steps += [
                f"mkdir -p {quoted}",
                f"mount --bind {aside}/{index} {quoted}",
                f"mount -o bind,remount,ro {quoted}",
            ]
        probe = json.dumps([list(self.tmpfs), self.scratch_places()])
        user = str(self.user)
        as_user = ["setpriv", "--reuid", user, "--regid", user, "--clear-groups"]
        read_anything = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
        probe_then_run = [sys.executable, "-c", PROBE, probe, *self.command]
        steps.append(shlex.join(["exec", *as_user, *read_anything, "--", *probe_then_run]))
        with log.open("wb") as output:
            return subprocess.Popen(
                ["unshare", "-m", "--propagation", "private", "sh", "-c", " && ".join(steps)],
                cwd=APP_DIR,
                env={**self.environment, **environment},
                stdout=output,
                stderr=subprocess.STDOUT,
            )


def image_config() -> tuple[dict[str, str], list[str], int]:
    """The Dockerfile's ``ENV`` variables, ``CMD`` and ``USER``."""
    environment = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": HOME}
    command: list[str] = []
    user = 0
    for line in DOCKERFILE.read_text().splitlines():
        instruction, _, rest = line.partition(" ")
        if instruction == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                environment[key] = value
        elif instruction == "CMD":
            command = json.loads(rest)
        elif instruction == "USER":
            user = int(rest)
    assert command, f"no CMD in {DOCKERFILE}"
    return environment, command, user


def tmpfs_options(volume: dict[str, Any]) -> str:
    """tmpfs options for an ``emptyDir`` volume: what the test can stand in for."""
    assert "emptyDir" in volume, f"volume {volume['name']}: only emptyDir volumes are emulated"
    size = (volume["emptyDir"] or {}).get("sizeLimit", "")
    units = {"Ki": "k", "Mi": "m", "Gi": "g"}
    if size:
        assert size[-2:] in units, f"volume {volume['name']}: sizeLimit {size!r}"
        return f"mode=0777,size={size[:-2]}{units[size[-2:]]}"
    return "mode=0777"


def manifest_container(name: str) -> Container:
    (deployment,) = [
        document
        for document in yaml.safe_load_all(MANIFEST.read_text())
        if document["kind"] == "Deployment"
    ]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == name]
    environment, command, user = image_config()
    for variable in container.get("env", []):
        # A Secret's value stands in for the optional Secret the README creates.
        environment[variable["name"]] = variable.get("value", SECRET_VALUE)
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    tmpfs = {}
    for mount in container.get("volumeMounts", []):
        assert Path(mount["mountPath"]).is_dir(), (
            f"{name}: mount point {mount['mountPath']} does not exist on this machine, "
            "and the read-only root cannot get one"
        )
        tmpfs[mount["mountPath"]] = tmpfs_options(volumes[mount["name"]])
    security = container.get("securityContext", {})
    return Container(
        command=container.get("command", command) + container.get("args", []),
        environment=environment,
        user=security.get("runAsUser", user),
        read_only_root=security.get("readOnlyRootFilesystem", False),
        tmpfs=tmpfs,
    )


def require_mount_namespaces() -> None:
    """Skips (fails in CI) unless this user may make a private mount namespace."""
    missing = [tool for tool in ("unshare", "setpriv", "mount") if shutil.which(tool) is None]
    if missing:
        reason = f"{', '.join(missing)} not found (util-linux)"
    else:
        attempt = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "mount", "-t", "tmpfs", "t", "/tmp"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if attempt.returncode == 0:
            return
        reason = f"private mount namespaces are not permitted here: {attempt.stderr.strip()}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def get(url: str, body: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def writes_stored(base: str) -> float:
    """The app's successful session writes so far (a turn stores its input and output)."""
    metrics = get(f"{base}/metrics").decode()
    name = 'openai_agents_session_operations_total{operation="add_items",outcome="ok"}'
    return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(name))


@dataclass(frozen=True)
class RunningApp:
    base: str
    log: Path


@pytest.fixture(scope="module")
def app(
    valkey_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    require_mount_namespaces()
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    process = manifest_container("app").start(
        log,
        REDIS_URL=valkey_server.url,
        BIND=f"127.0.0.1:{port}",
        OTEL_EXPORTER_OTLP_ENDPOINT="",  # main.py exports no traces without one
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # four workers import the SDK on two CPUs
        while True:
            assert process.poll() is None, f"the app exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"the app did not start:\n{log.read_text()}"
            with contextlib.suppress(OSError):
                get(f"{base}/metrics")
                break
            time.sleep(0.2)
        yield RunningApp(base, log)
    finally:
        stop(process)


def test_both_containers_run_read_only_as_an_unprivileged_user() -> None:
    for name in ("app", "traffic"):
        container = manifest_container(name)
        assert container.read_only_root, name
        assert container.user != 0, name


def test_the_app_serves_metrics_and_agent_turns(app: RunningApp) -> None:
    before = writes_stored(app.base)
    reply = json.loads(get(f"{app.base}/conversations/read-only/turns", {"message": "Hi"}))
    assert reply["reply"].startswith("You said")
    assert writes_stored(app.base) > before


def test_the_app_sees_only_its_volumes_writable(app: RunningApp) -> None:
    log = app.log.read_text()
    for place in manifest_container("app").scratch_places():
        assert f"probe: {place} read-only" in log, log
    assert "Read-only file system" not in log, log
    assert "Traceback" not in log and "[ERROR]" not in log, log


def test_the_traffic_container_sends_turns(app: RunningApp, tmp_path: Path) -> None:
    container = manifest_container("traffic")
    port = app.base.rsplit(":", 1)[1]
    command = [arg.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for arg in container.command]
    assert command != container.command, "traffic no longer targets the app's port"
    log = tmp_path / "traffic.log"
    before = writes_stored(app.base)
    process = dataclasses.replace(container, command=command).start(log)
    try:
        started = time.monotonic()
        # Running for a while, not just started: its users keep taking turns.
        while writes_stored(app.base) < before + 10 or time.monotonic() < started + 2:
            assert process.poll() is None, f"traffic exited:\n{log.read_text()}"
            assert time.monotonic() < started + 15, f"too few turns:\n{log.read_text()}"
            time.sleep(0.2)
        assert process.poll() is None, f"traffic exited:\n{log.read_text()}"
    finally:
        stop(process)
    output = log.read_text()
    for place in container.scratch_places():
        assert f"probe: {place} read-only" in output, output
    assert "Traceback" not in output, output
    assert not re.search(r"^user \d+: ", output, re.MULTILINE), output  # a failed turn


def test_without_a_writable_tmp_python_has_no_temporary_directory(tmp_path: Path) -> None:
    """The failure users met: the same namespace, minus the volumes, reproduces it."""
    require_mount_namespaces()
    container = manifest_container("app")
    log = tmp_path / "bare.log"
    command = ["python", "-c", "import tempfile; tempfile.gettempdir()"]
    process = dataclasses.replace(container, command=command, tmpfs={}).start(log)
    try:
        assert process.wait(timeout=20) != 0
    finally:
        stop(process)
    assert "No usable temporary directory found" in log.read_text(), log.read_text()
