"""Run one benchmark part in a child process, so that its peak RSS and its CPU are its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_child(module: str, args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], Any]:
    """Run ``python -m module args``; (the JSON of its last line on stdout, its resource usage as
    the kernel measured it: ``ru_maxrss`` in KiB on Linux, ``ru_utime`` + ``ru_stime`` CPU)."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        what = " ".join([module, *args[:1]])
        raise RuntimeError(f"{what} failed: {stderr.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return result, usage


def peak_rss_mb(usage: Any) -> float:
    return round(float(usage.ru_maxrss) / 1024, 1)  # ru_maxrss is in KiB on Linux


def vm_hwm_mb() -> float:
    """This process's peak RSS in MB (VmHWM), printed by a child for its parent. Not the child's
    ``ru_maxrss`` from ``os.wait4``: Linux keeps that high-water mark across ``exec``, so a child
    forked from a large parent (moto's S3 holding every archive) would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")
