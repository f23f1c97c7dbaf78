"""Problems in parts: golden points per part, the verdict over parts, banned parts zeroed.

The end-to-end tests judge real files on the process sandbox against a function
problem in three parts (all-or-nothing, proportional, banned numpy.linalg), built
in a copy of the fixture bank.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from judge.bank import Bank
from judge.banned import BanReport, Flag, Violation
from judge.cli import app
from judge.data import Secret
from judge.errors import SpecError
from judge.runner import part_results, run_submission
from judge.sandbox.process import ProcessSandbox
from judge.scoring import PartMeasure, Scores, part_points
from judge.spec import BanRule, PartSpec, ProblemSpec, ScoringSpec, load_spec
from judge.verdicts import Result, Verdict

FIXTURES = Path(__file__).parent / "fixtures" / "bank"
SECRET = Secret(b"parts-tests", "test")

SPEC = """\
id: vector-ops
title: Vector operations in parts
section: 1
topic: a fixture function problem in parts
kind: function
dataset:
  recipe: vector_ops
  n_hidden: 40
function:
  names: [add, scale, solve]
  compare: allclose
  rtol: 1.0e-9
  atol: 1.0e-9
  reference: accepted/solution.py
metric: {name: cases, direction: max}
scoring: {pass: 1.0}
limits: {wall_s: 20, memory_mb: 512}
starter_verdict: WA
parts:
  - {id: add, title: Add, points: 5, functions: [add]}
  - {id: scale, title: Scale, points: 10, functions: [scale], partial: proportional}
  - id: solve
    title: Solve without numpy.linalg
    points: 5
    functions: [solve]
    banned:
      - {api: numpy.linalg, why: eliminate by hand}
"""

RECIPE = """\
def make(rng, n):
    calls = []
    for i in range(n):
        a, b = rng.normal(size=3).tolist(), rng.normal(size=3).tolist()
        which = ("add", "scale", "solve")[i % 3]
        if which == "add":
            calls.append({"function": "add", "args": [a, b]})
        elif which == "scale":
            calls.append({"function": "scale", "args": [a, float(rng.integers(-3, 4))]})
        else:
            d = float(rng.uniform(1, 3))
            calls.append({"function": "solve", "args": [[[d, 0.5], [0.5, d]], a[:2]]})
    return calls
"""

SOLUTION = """\
def add(a, b):
    return [x + y for x, y in zip(a, b)]

def scale(a, k):
    return [k * x for x in a]

def solve(m, v):
    (p, q), (r, s) = m
    det = p * s - q * r
    return [(s * v[0] - q * v[1]) / det, (p * v[1] - r * v[0]) / det]
"""


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    root = tmp_path_factory.mktemp("bank")
    shutil.copytree(FIXTURES, root, dirs_exist_ok=True)
    (root / "problems" / "vector-ops").mkdir()
    (root / "problems" / "vector-ops" / "spec.yaml").write_text(SPEC)
    (root / "problems" / "vector-ops" / "statement.md").write_text("# Vector ops\n")
    (root / "problems" / "vector-ops" / "starter.py").write_text(SOLUTION)
    (root / "datasets" / "vector_ops.py").write_text(RECIPE)
    accepted = root / "reference" / "vector-ops" / "accepted"
    accepted.mkdir(parents=True)
    (accepted / "solution.py").write_text(SOLUTION)
    return Bank(root)


def judge_text(bank: Bank, text: str, tmp_path: Path) -> Result:
    source = tmp_path / "submission.py"
    source.write_text(text)
    problem = bank.problem("vector-ops")
    return run_submission(problem, source, ProcessSandbox(), SECRET, bank)


def points(result: Result) -> dict[str, float]:
    return {part.id: part.points for part in result.parts}


# -- golden points, pure ----------------------------------------------------------------

ALL_OR_NOTHING = PartSpec(id="a", title="A", points=5, functions=["f"])
PROPORTIONAL = PartSpec(id="p", title="P", points=10, functions=["f"], partial="proportional")
METRIC = PartSpec(id="m", title="M", points=20, metric=True, baseline=0.5, target=0.9)
METRIC_PASS = PartSpec(id="q", title="Q", points=8, metric=True)
PASS = ScoringSpec.model_validate({"pass": 0.8})


@pytest.mark.parametrize(
    ("part", "value", "expected"),
    [
        (ALL_OR_NOTHING, 1.0, 5.0),
        (ALL_OR_NOTHING, 0.95, 0.0),
        (ALL_OR_NOTHING, 0.0, 0.0),
        (PROPORTIONAL, 1.0, 10.0),
        (PROPORTIONAL, 0.35, 3.5),
        (PROPORTIONAL, 0.0, 0.0),
        (METRIC, 0.9, 20.0),
        (METRIC, 0.95, 20.0),
        (METRIC, 0.7, 10.0),
        (METRIC, 0.4, 0.0),
        (METRIC_PASS, 0.8, 8.0),
        (METRIC_PASS, 0.79, 0.0),
    ],
)
def test_part_points_are_golden(part: PartSpec, value: float, expected: float) -> None:
    assert part_points(part, value, PASS, "max") == pytest.approx(expected)


def test_a_minimised_metric_part_scales_downwards() -> None:
    part = PartSpec(id="m", title="M", points=10, metric=True, baseline=1.0, target=0.2)
    assert part_points(part, 0.6, PASS, "min") == pytest.approx(5.0)
    assert part_points(part, 0.1, PASS, "min") == 10.0


def _spec(bank: Bank) -> ProblemSpec:
    return bank.problem("vector-ops").spec


def test_parts_zero_a_banned_part_and_keep_the_others(bank: Bank) -> None:
    spec = _spec(bank)
    measures = (
        PartMeasure("add", 1.0, 1.0, "all right"),
        PartMeasure("scale", 0.5, 1.0, "half wrong"),
        PartMeasure("solve", 1.0, 1.0, "all right"),
    )
    solve_rule = spec.parts[2].banned[0]
    report = BanReport((Violation(3, "numpy.linalg.solve", solve_rule),), ())
    parts = part_results(spec, Scores(0.8, 1.0, measures), report, Verdict.WA)
    assert [(p.id, p.points, p.public_points) for p in parts] == [
        ("add", 5.0, 5.0),
        ("scale", 5.0, 10.0),
        ("solve", 0.0, 0.0),
    ]
    assert parts[2].message == (
        "0 points: submission.py line 3: numpy.linalg.solve is banned here (eliminate by hand)"
    )


def test_parts_of_a_run_that_was_not_scored_are_zero_and_say_why(bank: Bank) -> None:
    parts = part_results(_spec(bank), None, BanReport(), Verdict.TLE)
    assert [p.points for p in parts] == [0.0, 0.0, 0.0]
    assert all(p.message == "not scored: the run ended with TLE" for p in parts)


def test_a_spec_in_parts_has_their_sum_as_its_points(bank: Bank) -> None:
    assert _spec(bank).max_points == 20.0


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("  - {id: more, title: More, points: 5, functions: [add]}\n", "checked by two parts"),
        ("  - {id: more, title: More, points: 5, functions: [mul]}\n", "'mul' is not one of"),
        ("  - {id: add, title: Again, points: 5, metric: true}\n", "given twice"),
        ("  - {id: m, title: M, points: 5, metric: true}\n", "only a train-predict part"),
        ("  - {id: i, title: I, points: 5, items: [q1]}\n", "only a quiz part"),
        ("  - {id: two, title: T, points: 5, functions: [add], metric: true}\n", "exactly one"),
    ],
)
def test_a_broken_parts_list_is_a_spec_error(tmp_path: Path, change: str, error: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("  - id: solve\n", change + "  - id: solve\n"))
    with pytest.raises(SpecError, match=error):
        load_spec(path)


def test_a_function_no_part_checks_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("names: [add, scale, solve]", "names: [add, scale, solve, mul]"))
    with pytest.raises(SpecError, match="'mul' is checked by no part"):
        load_spec(path)


def test_max_points_that_disagree_with_the_parts_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("scoring: {pass: 1.0}", "scoring: {pass: 1.0, max_points: 100}"))
    with pytest.raises(SpecError, match="parts sum to 20"):
        load_spec(path)


def test_a_banned_module_that_does_not_exist_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("api: numpy.linalg", "api: nosuchmodule.linalg"))
    with pytest.raises(SpecError, match="there is no module 'nosuchmodule' to ban"):
        load_spec(path)


def test_a_rule_names_an_api_or_a_construct_not_both() -> None:
    with pytest.raises(ValueError, match="exactly one of api, construct or attribute"):
        BanRule.model_validate({"api": "numpy.linalg", "construct": "loop"})


# -- end to end on the process sandbox ----------------------------------------------------


def test_the_reference_earns_every_part_and_is_accepted(bank: Bank, tmp_path: Path) -> None:
    result = judge_text(bank, SOLUTION, tmp_path)
    assert result.verdict is Verdict.AC, result.message
    assert points(result) == {"add": 5.0, "scale": 10.0, "solve": 5.0}
    assert result.score == 20.0 and result.max_score == 20.0
    assert result.message == "Accepted: every part earned its full points. 20 of 20 points."


def test_one_wrong_function_costs_only_its_part(bank: Bank, tmp_path: Path) -> None:
    wrong_add = SOLUTION.replace("return [x + y", "return [x - y")
    result = judge_text(bank, wrong_add, tmp_path)
    assert result.verdict is Verdict.WA
    assert points(result) == {"add": 0.0, "scale": 10.0, "solve": 5.0}
    assert result.score == 15.0
    add = result.parts[0]
    assert add.message.endswith("hidden calls wrong") and "of 14" in add.message
    assert "part add: 0/5" in result.message


def test_a_proportional_part_earns_its_share(bank: Bank, tmp_path: Path) -> None:
    # scale is right only for k >= 0: about 4 of 7 values of k
    half = SOLUTION.replace("return [k * x for x in a]", "return [abs(k) * x for x in a]")
    result = judge_text(bank, half, tmp_path)
    scale = result.parts[1]
    assert 0.0 < scale.points < 10.0
    assert result.verdict is Verdict.WA and result.score == pytest.approx(10.0 + scale.points)


@pytest.mark.parametrize(
    "use",
    [
        "import numpy.linalg\n",
        "from numpy.linalg import solve as s\n",
        "import numpy as np\nX = np.linalg\n",
        "import numpy\nX = getattr(numpy, 'linalg')\n",
        "X = __import__('numpy.linalg')\n",
    ],
)
def test_a_banned_use_zeroes_its_part_with_the_line_named(
    bank: Bank, tmp_path: Path, use: str
) -> None:
    result = judge_text(bank, use + SOLUTION, tmp_path)
    assert result.verdict is Verdict.WA
    assert points(result) == {"add": 5.0, "scale": 10.0, "solve": 0.0}
    line = use.count("\n")
    assert f"submission.py line {line}: numpy.linalg" in result.parts[2].message
    assert "banned here (eliminate by hand)" in result.parts[2].message


def test_the_runtime_guard_catches_a_call_the_static_check_could_not_read(
    bank: Bank, tmp_path: Path
) -> None:
    sneaky = SOLUTION.replace(
        "def solve(m, v):\n",
        "def solve(m, v):\n    import numpy\n"
        "    return getattr(numpy, 'lin' + 'alg').solve(m, v).tolist()\n",
    )
    result = judge_text(bank, sneaky, tmp_path)
    assert result.parts[2].points == 0.0
    assert result.parts[2].message == "0 points: calls numpy.linalg.solve, which is banned here"
    assert points(result)["add"] == 5.0 and points(result)["scale"] == 10.0
    assert result.details["flags"] == [
        "submission.py line 9: getattr on numpy with a computed name"
    ]


def test_the_guard_lets_the_librarys_own_use_of_a_banned_module_through(
    bank: Bank, tmp_path: Path
) -> None:
    # numpy.polyfit solves its least squares with numpy.linalg inside numpy itself
    uses_library = SOLUTION.replace(
        "def add(a, b):\n",
        "def add(a, b):\n    import numpy\n    numpy.polyfit([0, 1, 2], [1, 2, 3], 1)\n",
    )
    result = judge_text(bank, uses_library, tmp_path)
    assert result.verdict is Verdict.AC, result.message


def test_run_json_carries_the_parts_contract(bank: Bank, tmp_path: Path) -> None:
    source = tmp_path / "submission.py"
    source.write_text(SOLUTION.replace("return [x + y", "return [x - y"))
    runner = CliRunner()
    env = {"JUDGE_BANK": str(bank.root), "JUDGE_SECRET": "parts-tests"}
    out = runner.invoke(
        app, ["run", "vector-ops", str(source), "--sandbox", "process", "--json"], env=env
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert [(p["id"], p["points"], p["max_points"]) for p in result["parts"]] == [
        ("add", 0.0, 5.0),
        ("scale", 10.0, 10.0),
        ("solve", 5.0, 5.0),
    ]
    assert all(isinstance(p["message"], str) and p["message"] for p in result["parts"])


def test_list_json_carries_slug_section_kind_points_and_parts(bank: Bank) -> None:
    out = CliRunner().invoke(app, ["list", "--json"], env={"JUDGE_BANK": str(bank.root)})
    assert out.exit_code == 0, out.output
    listed = {entry["slug"]: entry for entry in json.loads(out.stdout)}
    assert listed["vector-ops"] == {
        "slug": "vector-ops",
        "section": 1,
        "kind": "function",
        "max_points": 20.0,
        "parts": [
            {"id": "add", "points": 5.0},
            {"id": "scale", "points": 10.0},
            {"id": "solve", "points": 5.0},
        ],
    }
    assert listed["threshold"]["parts"] == [] and listed["threshold"]["max_points"] == 100.0


def test_a_result_in_parts_crosses_a_queue_unchanged(bank: Bank, tmp_path: Path) -> None:
    result = judge_text(bank, SOLUTION, tmp_path)
    again = Result.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


def test_flags_are_kept_for_the_organiser() -> None:
    flag = Flag(4, "exec() runs code the check cannot read")
    assert flag.describe() == "submission.py line 4: exec() runs code the check cannot read"


# -- public sample calls ------------------------------------------------------------------

SAMPLES = (
    '[{"function": "add", "args": [[1, 2, 3], [10, 20, 30]]},'
    ' {"function": "scale", "args": [[1, -2, 3], -2]}]'
)


@pytest.fixture(scope="module")
def sampled(bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> Bank:
    root = tmp_path_factory.mktemp("sampled")
    shutil.copytree(bank.root, root, dirs_exist_ok=True)
    spec = root / "problems" / "vector-ops" / "spec.yaml"
    spec.write_text(
        spec.read_text().replace(
            "  reference: accepted/solution.py\n",
            "  reference: accepted/solution.py\n  samples: samples.json\n",
        )
    )
    (root / "problems" / "vector-ops" / "samples.json").write_text(SAMPLES)
    return Bank(root)


def test_a_failed_sample_shows_its_input_expected_and_got(sampled: Bank, tmp_path: Path) -> None:
    wrong_scale = SOLUTION.replace("return [k * x for x in a]", "return [abs(k) * x for x in a]")
    result = judge_text(sampled, wrong_scale, tmp_path)
    assert result.details["notes"] == [
        "sample 2: scale([1, -2, 3], -2) should return [-2, 4, -6], got [2, -4, 6]"
    ]
    assert "sample 2: scale([1, -2, 3], -2)" in result.message


def test_samples_score_nothing_and_passing_ones_say_nothing(sampled: Bank, tmp_path: Path) -> None:
    result = judge_text(sampled, SOLUTION, tmp_path)
    assert result.verdict is Verdict.AC and "notes" not in result.details
    assert result.parts[0].message == "all 14 hidden calls right"


def test_the_statement_shows_the_samples_with_the_references_answers(sampled: Bank) -> None:
    from judge.kinds import get_kind

    problem = sampled.problem("vector-ops")
    text = get_kind("function").statement(problem, sampled, SECRET, None)
    assert "| `add([1, 2, 3], [10, 20, 30])` | `[11, 22, 33]` |" in text
    assert "| `scale([1, -2, 3], -2)` | `[-2, 4, -6]` |" in text


def test_validate_tells_the_setter_what_the_banned_check_cannot_read(
    bank: Bank, tmp_path: Path
) -> None:
    from judge.validate import ValidateOptions, validate_bank

    root = tmp_path / "bank"
    shutil.copytree(bank.root, root)
    sneaky = SOLUTION.replace(
        "def solve(m, v):\n",
        "def solve(m, v):\n    import numpy\n    getattr(numpy, 'lin' + 'alg')\n",
    )
    wrong = root / "reference" / "vector-ops" / "accepted" / "sneaky.py"
    wrong.write_text(sneaky)
    report = validate_bank(
        Bank(root),
        ["vector-ops"],
        ProcessSandbox(),
        SECRET,
        ValidateOptions(draws=1, audit_sandbox=False),
    )
    warnings = [f.message for f in report.problems[0].findings if f.check == "banned"]
    assert warnings == [
        "accepted/sneaky.py: the check cannot read submission.py line 9: "
        "getattr on numpy with a computed name"
    ]


@pytest.mark.slow
def test_the_reference_is_never_guarded_by_the_runs_banned_list(tmp_path: Path) -> None:
    from judge.kinds.function import reference_answers

    problem = Bank(Path(__file__).parent.parent).problem("optim-schedule-drill")
    assert problem.spec.function is not None and problem.spec.function.samples is not None
    calls = tmp_path / "calls.json"
    calls.write_text((problem.folder / problem.spec.function.samples).read_text())
    (tmp_path / "banned.json").write_text('[{"api": "torch.optim", "inside": []}]')
    answers = reference_answers(problem, calls)  # its reference calls torch.optim itself
    assert answers[2] == pytest.approx([0.05, 0.1, 0.1, 0.05])
