"""Host folders for one run: a private run folder and a size-capped output folder.

The output cap is enforced by the kernel where the judge may mount (a tmpfs of the
cap's size); elsewhere the backends' RLIMIT_FSIZE caps each file and the size is
checked after the run.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from judge.sandbox.base import SANDBOX_GID, SANDBOX_UID

log = logging.getLogger(__name__)


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextmanager
def capped_directory(path: Path, size_mb: int) -> Iterator[Path]:
    """Create `path` as a folder of at most `size_mb` MiB, writable by the sandbox user."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = False
    if _can_mount():
        options = f"size={size_mb}m,mode=0770,uid={SANDBOX_UID},gid={SANDBOX_GID},nosuid,nodev"
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "judge-output", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        mounted = proc.returncode == 0
        if not mounted:
            log.warning("could not mount a tmpfs for the output cap: %s", proc.stderr.strip())
    if not mounted:
        path.chmod(0o777)
    try:
        yield path
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextmanager
def run_folder(prefix: str = "judge-run-") -> Iterator[Path]:
    """Create a private temporary folder for one run and remove it afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
