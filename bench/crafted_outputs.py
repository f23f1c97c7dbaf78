"""What the judge's own process spends walking a crafted output folder after a run.

    python bench/crafted_outputs.py [-n 3] [--links 1670000] [--depth 1500]

Builds, in the temp folder, the folders the red team
left in issue 11 (a chain of nested folders, a flood of long-named hard links to one
empty file, many long names) plus an honest one-file output, then times
`judge.sandbox.base.output_overflow` on each in a fresh child process: wall and CPU
seconds, and the child's peak memory. Prints median, min and max over N. The folders
are made outside the judge's output tmpfs, whose inode cap would stop the flood at
10,000 entries: this measures the walk's own bounds. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from judge.sandbox.workspace import remove_tree

# ru_maxrss survives exec on Linux (the parent's high-water mark), so the child reads
# its own VmHWM; the interpreter itself accounts for about 20 MiB of it.
CHILD = """
import json, sys, time
from pathlib import Path
from judge.sandbox.base import Limits, Mount, output_overflow
start, cpu = time.monotonic(), time.process_time()
reason = output_overflow([Mount(Path(sys.argv[1]), "/o", writable=True)], Limits(10, 256))
wall, cpu = time.monotonic() - start, time.process_time() - cpu
status = Path("/proc/self/status").read_text().splitlines()
peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak / 1024, "reason": reason}))
"""


def chain(root: Path, depth: int) -> None:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)


def links(root: Path, count: int) -> None:
    for i in range(count):
        if i % 60_000 == 0:  # ext4 allows 65,000 links to a file; tmpfs has no such cap
            target = root / f"f{i}"
            target.write_bytes(b"")
        os.link(target, root / f"{i:0200d}")


def names(root: Path, count: int) -> None:
    for i in range(count):
        (root / f"{i:0250d}").write_bytes(b"")


def honest(root: Path, _: int) -> None:
    (root / "predictions.npy").write_bytes(b"\x93NUMPY" + b"\0" * 4000)


def measure(folder: Path) -> dict[str, float | str]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, check=True
    )
    result: dict[str, float | str] = json.loads(proc.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3)
    parser.add_argument("--links", type=int, default=1_670_000)
    parser.add_argument("--depth", type=int, default=1500)
    args = parser.parse_args()
    cases: dict[str, tuple[Callable[[Path, int], None], int]] = {
        "honest: one predictions file": (honest, 1),
        f"chain of {args.depth} nested folders": (chain, args.depth),
        f"{args.links} hard links, 200-byte names": (links, args.links),
        "20000 files, 250-byte names": (names, 20_000),
    }
    table = Table(title=f"the judge's walk of a crafted output folder, {args.n} runs each")
    for column in ("output folder", "verdict reason", "wall s", "cpu s", "peak MiB"):
        table.add_column(column)
    with tempfile.TemporaryDirectory(prefix="bench-crafted-") as tmp:
        for label, (build, size) in cases.items():
            folder = Path(tmp) / "out"
            folder.mkdir()
            build(folder, size)
            runs = [measure(folder) for _ in range(args.n)]
            remove_tree(folder)
            cells = [label, str(runs[0]["reason"]) or "-"]
            for key in ("wall", "cpu", "peak_mb"):
                values = [float(run[key]) for run in runs]
                cells.append(
                    f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"
                )
            table.add_row(*cells)
    Console(width=180).print(table)


if __name__ == "__main__":
    main()
