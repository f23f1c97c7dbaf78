"""Print the attacks x backends table from an ADVERSARIAL_REPORT file.

    python tests/adversarial/report.py /tmp/attacks.json

Leaks: runs that exited with the "I got through" code (42). Judge crashes: IE
verdicts. Host traces: what the after-attack check found (stray process, run folder,
cgroup), plus honest runs that did not get AC afterwards.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

BACKENDS = ("process", "bwrap", "docker")


def main(path: str) -> None:
    report = json.loads(Path(path).read_text(encoding="utf-8"))
    seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    leaks = crashes = 0
    for run in report["runs"]:
        seen[run["attack"]][run["backend"]].add(run["verdict"])
        leaks += bool(run["leak"])
        crashes += run["verdict"] == "IE"
    traces = sum(len(a["traces"]) + (a["honest_after"] != "AC") for a in report["after"])
    print("| attack | " + " | ".join(BACKENDS) + " |")
    print("|---|" + "---|" * len(BACKENDS))
    for attack in sorted(seen):
        cells = [",".join(sorted(seen[attack].get(b, set()))) or "skipped" for b in BACKENDS]
        print(f"| {attack.removeprefix('test_')} | " + " | ".join(cells) + " |")
    print(f"\nleaks: {leaks}   judge crashes (IE): {crashes}   host traces: {traces}")


if __name__ == "__main__":
    main(sys.argv[1])
