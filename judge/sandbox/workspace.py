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
import stat
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


def resize_capped(path: Path, size_mb: int) -> None:
    """Change the size cap of a folder made by `capped_directory`, if it is a mount."""
    if not os.path.ismount(path):
        return
    proc = subprocess.run(
        ["mount", "-o", f"remount,size={size_mb}m", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise OSError(f"cannot resize {path} to {size_mb} MiB: {proc.stderr.strip()}")


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def copy_untrusted_tree(source: Path, target: Path, max_bytes: int) -> None:
    """Copy a tree a submission wrote into the empty folder `target`, kind for kind.

    Regular files are copied (at most `max_bytes` in all; hard links stay links),
    folders made, symlinks re-made with the same text (never followed), FIFOs and
    sockets re-made empty; nothing else is copied. Modes keep their permission bits
    only (never setuid, setgid or sticky), and as root the copies belong to the
    sandbox user, as the originals did. A file the judge may not read is re-made
    empty and unreadable, so reading it fails as it would have. Like base.measure_output, whose
    caps the caller has checked, the walk is iterative on folder descriptors (at most
    two per level open), never follows a link, opens a FIFO or blocks. Nothing may
    write to `source` meanwhile. Raises OSError when the copy fails or goes over
    `max_bytes`.
    """
    budget = [max_bytes, max_bytes]  # left, cap
    linked: dict[tuple[int, int], tuple[str, ...]] = {}
    root = os.open(target, _DIR_FLAGS)
    stack: list[tuple[int, int, list[str], tuple[str, ...]]] = []
    try:
        top = os.open(source, _DIR_FLAGS)
        stack.append((top, os.dup(root), [], ()))
        stack[-1] = (top, stack[-1][1], os.listdir(top), ())
        while stack:
            src, dst, pending, path = stack[-1]
            if not pending:
                stack.pop()
                os.close(src)
                os.close(dst)
                continue
            name = pending.pop()
            info = os.stat(name, dir_fd=src, follow_symlinks=False)
            mode = stat.S_IMODE(info.st_mode) & 0o777
            if stat.S_ISDIR(info.st_mode):
                os.mkdir(name, 0o700, dir_fd=dst)
                os.chmod(name, mode, dir_fd=dst)
                _own(dst, name)
                child = os.open(name, _DIR_FLAGS, dir_fd=src)
                stack.append((child, -1, [], ()))  # on the stack at once, so always closed
                stack[-1] = (child, os.open(name, _DIR_FLAGS, dir_fd=dst), [], ())
                stack[-1] = (child, stack[-1][1], os.listdir(child), (*path, name))
            elif stat.S_ISREG(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in linked:
                    _link_from(root, linked[key], dst, name)
                    continue
                _copy_file(src, dst, name, mode, budget)
                if info.st_nlink > 1:
                    linked[key] = (*path, name)
            elif stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(name, dir_fd=src), name, dir_fd=dst)
                _own(dst, name)
            elif stat.S_ISFIFO(info.st_mode):
                os.mkfifo(name, mode, dir_fd=dst)
                _own(dst, name)
            elif stat.S_ISSOCK(info.st_mode):
                os.mknod(name, stat.S_IFSOCK | mode, dir_fd=dst)
                _own(dst, name)
    finally:
        for src, dst, _, _ in stack:
            os.close(src)
            if dst >= 0:
                os.close(dst)
        os.close(root)


def _own(folder: int, name: str) -> None:
    """Give an entry made as root to the sandbox user, as the original was."""
    if os.geteuid() == 0:
        os.chown(name, SANDBOX_UID, SANDBOX_GID, dir_fd=folder, follow_symlinks=False)


def _link_from(root: int, names: tuple[str, ...], dst: int, name: str) -> None:
    """Hard-link `name` in folder `dst` to the file at `names` under the folder `root`."""
    folder = os.dup(root)
    try:
        for part in names[:-1]:
            inner = os.open(part, _DIR_FLAGS, dir_fd=folder)
            os.close(folder)
            folder = inner
        os.link(names[-1], name, src_dir_fd=folder, dst_dir_fd=dst, follow_symlinks=False)
    finally:
        os.close(folder)


def _copy_file(src: int, dst: int, name: str, mode: int, budget: list[int]) -> None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    create = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        reader = os.open(name, flags, dir_fd=src)
    except PermissionError:  # not the judge's to read: nor is the copy
        os.close(os.open(name, create, 0, dir_fd=dst))
        os.chmod(name, 0, dir_fd=dst)
        return
    try:
        if not stat.S_ISREG(os.fstat(reader).st_mode):
            return
        writer = os.open(name, create, 0o600, dir_fd=dst)
        try:
            while chunk := os.read(reader, 1 << 20):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise OSError(f"the outputs went over the {budget[1]} byte cap while copied")
                view = memoryview(chunk)
                while view:
                    view = view[os.write(writer, view) :]
            os.fchmod(writer, mode)
            if os.geteuid() == 0:
                os.fchown(writer, SANDBOX_UID, SANDBOX_GID)
        finally:
            os.close(writer)
    finally:
        os.close(reader)
