"""Build the Lambda deployment artifact: the app's code plus every runtime dependency, one zip.

``python -m infra.package`` (what ``make package`` runs) writes ``build/dlq-redrive.zip``, the file
serverless.yml deploys. Dependencies are the ``[project].dependencies`` of pyproject.toml, installed
for the Lambda platform (Python 3.12 on arm64) from wheels only, so the build needs no Docker and
gives the same result on any machine. The zip is reproducible (sorted entries, fixed timestamps):
an unchanged build has an unchanged hash, and osls skips the upload.

Left out on purpose: tests, caches, ``bin/`` scripts, node_modules, and botocore's API models for
services the app never calls (they are ~70% of the size; ``BOTOCORE_SERVICES`` lists the kept ones).

Put in on purpose: byte-code compiled by a Python 3.12 (when one is installed) as unchecked-hash
``.cpython-312.pyc`` files. Lambda's code directory is read-only, so without them every cold start
compiles every imported module again (measured: importing the Slack handler 647 ms -> 246 ms).
Hash-based, with paths as Lambda sees them (``/var/task``), they keep the zip reproducible.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "build" / "dlq-redrive.zip"
APP_PACKAGES = ("bot", "handlers")
APP_SUFFIXES = {".py", ".json", ".typed"}

# The Lambda runtime in serverless.yml (python3.12, arm64).
LAMBDA_PLATFORM = "manylinux2014_aarch64"
LAMBDA_PYTHON = "3.12"

# AWS services whose botocore models ship in the artifact. Any service the code creates a client
# for must be listed (tests/deploy/test_package.py checks the code against this list); ssm and
# secretsmanager are called through powertools Parameters (the Slack secrets, the job key); s3
# by the worker's archive writes (bot/s3_gateway.py); sns and events by the discovery of the other
# DLQ kinds and their deliveries (bot/sns_gateway.py, bot/events_gateway.py; lambda already is).
BOTOCORE_SERVICES = frozenset(
    {"sqs", "dynamodb", "lambda", "ssm", "secretsmanager", "sts", "s3", "sns", "events"}
)

# Where Lambda puts the code; compiled byte-code records its source files under this path.
LAMBDA_TASK_ROOT = "/var/task"
LAMBDA_BYTECODE_SUFFIX = ".cpython-312.pyc"

# Never shipped: stray byte-code caches, scripts, and files only useful to developers.
SKIPPED_DIRS = {"__pycache__"}
SKIPPED_TOP_LEVEL = {"bin", "tests"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
SKIPPED_NAMES = {"examples-1.json", "RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The project's runtime dependencies, exactly as pyproject.toml pins them."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def install_dependencies(requirements: list[str], target: Path) -> None:
    """Install ``requirements`` into ``target`` as wheels for the Lambda platform."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        f"--platform={LAMBDA_PLATFORM}",
        "--implementation=cp",
        f"--python-version={LAMBDA_PYTHON}",
        "--target",
        str(target),
        *requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"pip install failed ({result.returncode}):\n{result.stderr}")


def copy_app(source_root: Path, target: Path) -> None:
    """Copy the app's own packages (sources and data files only) into ``target``."""
    for package in APP_PACKAGES:
        for path in sorted((source_root / package).rglob("*")):
            relative = path.relative_to(source_root)
            if path.is_file() and path.suffix in APP_SUFFIXES and _shipped(relative):
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)


def _shipped(relative: Path) -> bool:
    """Whether a file (path relative to the artifact root) belongs in the artifact."""
    parts = relative.parts
    if len(parts) > 1 and parts[-2] == "__pycache__":
        # Only the byte-code compile_bytecode wrote for Lambda's Python.
        return relative.name.endswith(LAMBDA_BYTECODE_SUFFIX) and _shipped(
            relative.parent.parent / (relative.name.split(".", 1)[0] + ".py")
        )
    if parts[0] in SKIPPED_TOP_LEVEL or any(part in SKIPPED_DIRS for part in parts[:-1]):
        return False
    if relative.suffix in SKIPPED_SUFFIXES or relative.name in SKIPPED_NAMES:
        return False
    # botocore/data/<service>/...: only the services the app calls.
    if parts[:2] == ("botocore", "data") and len(parts) > 3:
        return parts[2] in BOTOCORE_SERVICES
    return True


def lambda_python() -> str | None:
    """A working Python 3.12 interpreter (Lambda's version): installed by pyenv, or on PATH."""
    candidates: list[str] = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        result = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        versions = sorted(Path(result.stdout.strip(), "versions").glob(f"{LAMBDA_PYTHON}.*"))
        candidates += [str(v / "bin" / "python") for v in reversed(versions)]
    candidates += [path for path in [shutil.which(f"python{LAMBDA_PYTHON}")] if path]
    for candidate in candidates:
        # pyenv shims exist for versions that are not active: ask the interpreter itself.
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == LAMBDA_PYTHON:
            return candidate
    return None


def compile_bytecode(root: Path, python: str) -> None:
    """Compile every module under ``root`` with ``python`` (3.12), reproducibly."""
    command = [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(root),
        "-p",
        LAMBDA_TASK_ROOT,
        str(root),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"compileall failed ({result.returncode}):\n{result.stdout}")


def artifact_files(root: Path) -> Iterator[Path]:
    """Every file under ``root`` that ships, in a stable order."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and _shipped(path.relative_to(root)):
            yield path


def write_zip(root: Path, files: Iterable[Path], output: Path) -> None:
    """Write a reproducible zip: sorted entries, fixed timestamps and permissions."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    # Replace atomically, so a failed build never leaves a half-written artifact to deploy.
    partial.replace(output)


def build(
    output: Path = DEFAULT_OUTPUT, source_root: Path = ROOT, *, python: str | None = None
) -> Path:
    """Build the artifact at ``output`` and return its path.

    ``python`` compiles the byte-code (default: a Python 3.12 if installed; without one the
    artifact is built from sources alone, and works, with slower cold starts).
    """
    python = python or lambda_python()
    with tempfile.TemporaryDirectory(prefix="dlq-redrive-package-") as work:
        staging = Path(work)
        install_dependencies(runtime_requirements(source_root / "pyproject.toml"), staging)
        copy_app(source_root, staging)
        if python:
            compile_bytecode(staging, python)
        else:
            print(f"no Python {LAMBDA_PYTHON} found: shipping sources without byte-code")
        write_zip(staging, artifact_files(staging), output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="zip to write")
    args = parser.parse_args(argv)
    path = build(args.output)
    with zipfile.ZipFile(path) as zf:
        unpacked = sum(info.file_size for info in zf.infolist())
        count = len(zf.infolist())
    print(
        f"{path}: {path.stat().st_size / 1e6:.1f} MB zipped, "
        f"{unpacked / 1e6:.1f} MB unpacked, {count} files"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
