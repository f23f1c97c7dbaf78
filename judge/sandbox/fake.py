"""A sandbox that runs nothing and returns scripted facts, for unit tests of runner logic."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from judge.sandbox.base import Limits, Mount, RunFacts

# Called with the mounts before the facts are returned, so a test can write outputs.
WriteOutputs = Callable[[Sequence[Mount]], None]


@dataclass
class FakeSandbox:
    """Return `facts` for every run, after calling `write_outputs` on the mounts."""

    facts: RunFacts
    write_outputs: WriteOutputs | None = None
    name: str = "fake"
    isolates: bool = False
    identity: str = "fake"
    calls: list[tuple[list[str], dict[str, str]]] = field(default_factory=list)

    @property
    def python(self) -> str:
        return "python3"

    def close(self) -> None:
        """Nothing to let go of."""

    def run(
        self,
        command: Sequence[str],
        mounts: Sequence[Mount],
        limits: Limits,
        env: Mapping[str, str],
    ) -> RunFacts:
        self.calls.append((list(command), dict(env)))
        if self.write_outputs is not None:
            self.write_outputs(mounts)
        return self.facts
