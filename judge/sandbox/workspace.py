"""Host folders for one run: a private run folder and a size-capped output folder.

The output caps are enforced by the kernel where the judge may mount: a tmpfs of the
cap's size holding at most OUTPUT_MAX_ENTRIES inodes (a hard link takes one too, so a
flood of links to one empty file stops there). Elsewhere the backends' RLIMIT_FSIZE
caps each file, and the bounded walk after the run (base.measure_output) decides.
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

from judge.sandbox.base import OUTPUT_MAX_ENTRIES, SANDBOX_GID, SANDBOX_UID

log = logging.getLogger(__name__)


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextmanager
def capped_directory(path: Path, size_mb: int) -> Iterator[Path]:
    """Create `path` as a folder of at most `size_mb` MiB, writable by the sandbox user."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = False
    if _can_mount():
        options = (
            f"size={size_mb}m,nr_inodes={OUTPUT_MAX_ENTRIES + 1},mode=0770,"
            f"uid={SANDBOX_UID},gid={SANDBOX_GID},nosuid,nodev"
        )
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
        remove_tree(root)


def remove_tree(root: Path) -> None:
    """Remove a folder a submission may have filled, however deep; never raise.

    shutil.rmtree recurses once per level and raises RecursionError on a chain of
    about a thousand folders; `rm -rf` (fts) walks any depth.
    """
    try:
        shutil.rmtree(root, ignore_errors=True)
    except RecursionError:
        proc = subprocess.run(
            ["rm", "-rf", "--one-file-system", "--", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            log.error("could not remove %s: %s", root, proc.stderr.strip()[:300])
