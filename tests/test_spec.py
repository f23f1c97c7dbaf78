"""Spec loading: good specs load; broken ones name the file, the field and the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from judge.bank import Bank
from judge.errors import SpecError
from judge.spec import (
    KindRules,
    ProblemSpec,
    load_problem,
    load_spec,
    register_kind_rules,
    spec_json_schema,
    unregister_kind_rules,
)

FIXTURE = Path(__file__).parent / "fixtures" / "bank"
GOOD = yaml.safe_load((FIXTURE / "problems" / "threshold" / "spec.yaml").read_text())


def write_spec(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def broken(**changes: object) -> dict[str, object]:
    data = json.loads(json.dumps(GOOD))
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = data
        for key in parents:
            node = node[key]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    return data


def test_fixture_specs_load() -> None:
    assert [p.id for p in Bank(FIXTURE).problems()] == [
        "add-arrays",
        "threshold",
        "threshold-patient",
    ]


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"colour": "blue"}, "colour", "unknown field"),
        ({"limits__wall": 5}, "limits.wall", "unknown field; did you mean 'wall_s'?"),
        ({"limits__wall_s": "fast"}, "limits.wall_s", "valid number"),
        ({"limits__memory_mb": 1}, "limits.memory_mb", "greater than or equal to 64"),
        ({"limits__wall_s": -1}, "limits.wall_s", "greater than 0"),
        ({"metric__name": "cases"}, "(top level)", "does not fit kind train-predict"),
        ({"output": None}, "(top level)", "needs `output`"),
        ({"scoring__target": None}, "scoring", "baseline and target must be given together"),
        ({"starter_verdict": "OK"}, "starter_verdict", "Input should be"),
        ({"output__shape": [5]}, "output", 'shape must start with "n"'),
        ({"title": None}, "title", "Field required"),
        (
            {"kind": "essay"},
            "kind",
            "unknown problem kind 'essay'; known: function, quiz, train-predict",
        ),
        (
            {"kind": "function"},
            "(top level)",
            "a function problem needs `function` and no `output`",
        ),
        ({"train-predict": {"x": 1}}, "(top level)", "kind train-predict has no own section"),
        (
            {"metric": {"name": "log_loss", "direction": "min"}, "output__shape": ["n", 2, 3]},
            "(top level)",
            'scores probabilities of shape ["n"] or ["n", k]',
        ),
    ],
)
def test_broken_spec_names_file_field_and_reason(
    tmp_path: Path, changes: dict[str, object], field: str, reason: str
) -> None:
    path = write_spec(tmp_path, broken(**changes))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert str(path) in message
    assert field in message
    assert reason in message
    assert "\n" not in message


def test_unparsable_yaml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("id: [unclosed\n  title: x", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML") as caught:
        load_spec(path)
    assert "\n" not in str(caught.value)


def test_missing_starter_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "problems" / "threshold"
    folder.mkdir(parents=True)
    write_spec(folder, GOOD)
    (folder / "statement.md").write_text("# x", encoding="utf-8")
    with pytest.raises(SpecError, match=r"starter\.py: required file missing"):
        load_problem(folder, tmp_path / "reference")


def test_id_must_match_folder(tmp_path: Path) -> None:
    folder = tmp_path / "other-name"
    folder.mkdir()
    write_spec(folder, GOOD)
    with pytest.raises(SpecError, match="differs from folder name"):
        load_problem(folder, tmp_path)


def test_json_schema_describes_the_spec() -> None:
    schema = json.loads(spec_json_schema())
    assert {"id", "kind", "dataset", "metric", "scoring", "limits"} <= set(schema["properties"])
    assert "pass" in schema["$defs"]["ScoringSpec"]["properties"]


def test_class_probability_rows_are_scored_against_class_indices(tmp_path: Path) -> None:
    rows = broken(metric={"name": "log_loss", "direction": "min"}, output__shape=["n", 4])
    spec = load_spec(write_spec(tmp_path, rows))
    assert (spec.class_count, spec.label_shape) == (4, ())
    plain = load_spec(write_spec(tmp_path, broken(output__shape=["n", 4])))
    assert (plain.class_count, plain.label_shape) == (None, (4,))


class SketchSection(BaseModel):
    """The own section of a kind only this test knows."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    size: int
    style: str = "pencil"


@pytest.fixture
def sketch_kind() -> Iterator[KindRules]:
    rules = register_kind_rules(KindRules("sketch", {"cases": "max"}, section=SketchSection))
    yield rules
    unregister_kind_rules("sketch")


def sketch_spec(**section: object) -> dict[str, object]:
    data = broken(output=None, kind="sketch", metric={"name": "cases", "direction": "max"})
    return {**data, "sketch": section} if section else data


def test_a_registered_kind_brings_its_own_section(tmp_path: Path, sketch_kind: KindRules) -> None:
    spec = load_spec(write_spec(tmp_path, sketch_spec(size=3)))
    assert spec.kind == "sketch"
    assert spec.kind_section(SketchSection) == SketchSection(size=3)
    dumped = spec.model_dump(mode="json", by_alias=True)
    assert dumped["sketch"] == {"size": 3, "style": "pencil"}
    assert ProblemSpec.model_validate(dumped).kind_section(SketchSection).size == 3


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"size": "big"}, "sketch.size: Input should be a valid integer"),
        ({"size": 1, "colour": "red"}, "sketch.colour: unknown field"),
    ],
)
def test_a_bad_own_section_is_one_line_naming_the_field(
    tmp_path: Path, sketch_kind: KindRules, data: dict[str, object], reason: str
) -> None:
    with pytest.raises(SpecError, match=reason) as caught:
        load_spec(write_spec(tmp_path, sketch_spec(**data)))
    assert "\n" not in str(caught.value)


def test_a_kind_without_output_refuses_one(tmp_path: Path, sketch_kind: KindRules) -> None:
    data = {**sketch_spec(size=1), "output": GOOD["output"]}
    with pytest.raises(SpecError, match="a sketch problem takes no `output` or `function`"):
        load_spec(write_spec(tmp_path, data))


def test_an_unregistered_kind_is_unknown_again(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"kind: .*unknown problem kind 'sketch'") as caught:
        load_spec(write_spec(tmp_path, sketch_spec(size=1)))
    assert "sketch.size" not in str(caught.value) and "\n" not in str(caught.value)
