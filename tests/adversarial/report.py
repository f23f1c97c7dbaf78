"""Print the attacks x backends table from an ADVERSARIAL_REPORT file.

    python tests/adversarial/report.py /tmp/attacks.json

Leaks: runs that exited with the "I got through" code (42). Judge crashes: IE
verdicts. The last two columns are the most the judge's own process spent on one
judgement of the attack, on any backend: CPU seconds and peak memory growth (MiB).
Host traces: what the after-attack check found (stray process, run folder, cgroup),
plus honest runs that did not get AC afterwards.
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
    cost: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    leaks = crashes = 0
    for run in report["runs"]:
        seen[run["attack"]][run["backend"]].add(run["verdict"])
        spent = cost[run["attack"]]
        spent[0] = max(spent[0], run.get("judge_cpu_s", 0.0))
        spent[1] = max(spent[1], run.get("judge_peak_mb", 0.0))
        leaks += bool(run["leak"])
        crashes += run["verdict"] == "IE"
    traces = sum(len(a["traces"]) + (a["honest_after"] != "AC") for a in report["after"])
    print("| attack | " + " | ".join(BACKENDS) + " | judge cpu s | judge MiB |")
    print("|---|" + "---|" * (len(BACKENDS) + 2))
    for attack in sorted(seen):
        cells = [",".join(sorted(seen[attack].get(b, set()))) or "skipped" for b in BACKENDS]
        cells += [f"{cost[attack][0]:.2f}", f"{cost[attack][1]:.0f}"]
        print(f"| {attack.removeprefix('test_')} | " + " | ".join(cells) + " |")
    print(f"\nleaks: {leaks}   judge crashes (IE): {crashes}   host traces: {traces}")


if __name__ == "__main__":
    main(sys.argv[1])
