"""Publish a round: the text of `scoreboard.csv` and of a standalone `scoreboard.html`.

The page needs no network: its style is inline and its plots (matplotlib, drawn
with the Agg canvas, no display) are embedded as base64 PNG. It shows the final
(private) ranking when the round file allows it, the public ranking, points per
problem, the score distribution of every problem and the verdict mix.

Nothing here writes a file: the command line writes both texts into the results
folder, a web service can serve them.
"""

from __future__ import annotations

import base64
import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from judge.rounds.records import Manifest, Record
from judge.rounds.roundfile import Round
from judge.rounds.standings import Standings
from judge.verdicts import Verdict

TEMPLATE = "scoreboard.html.j2"
SCOREBOARD_CSV = "scoreboard.csv"
SCOREBOARD_HTML = "scoreboard.html"
VERDICT_COLOURS = {
    "AC": "#2e7d32",
    "WA": "#f9a825",
    "TLE": "#6a1b9a",
    "MLE": "#ad1457",
    "OLE": "#5d4037",
    "RE": "#c62828",
    "IO": "#ef6c00",
    "IE": "#424242",
    "CE": "#0277bd",
    "NS": "#bdbdbd",
}


@dataclass(frozen=True)
class Published:
    """A round's scoreboards as text: what goes into SCOREBOARD_CSV and SCOREBOARD_HTML."""

    csv: str
    html: str


def problem_columns(round_: Round, board: Standings) -> list[tuple[str, str, str | None]]:
    """The board's problem columns: (header, slug, part id or None for the problem's points).

    With `leaderboard.parts`, each problem in parts gets a column per part after its
    own, headed "slug/part", in the order of the problem's parts.
    """
    columns: list[tuple[str, str, str | None]] = []
    for slug in round_.slugs:
        columns.append((slug, slug, None))
        if round_.spec.leaderboard.parts:
            parts: list[str] = []
            for row in board.rows:
                parts += [part for part in row.cells[slug].parts if part not in parts]
            columns += [(f"{slug}/{part}", slug, part) for part in parts]
    return columns


def render_csv(round_: Round, private: Standings, public: Standings) -> str:
    """One row per contestant: final rank and points per problem, then the public board.

    While the round hides its private board (`publish_private: false`) only the public
    board is shown.
    """
    shown_private = round_.spec.leaderboard.publish_private
    main, other = (private, public) if shown_private else (public, None)
    columns = problem_columns(round_, main)
    header = ["rank", "contestant", *(name for name, _, _ in columns), "total", "last_improvement"]
    if other is not None:
        header += ["public_rank", "public_total"]
    other_rows = {row.contestant: row for row in other.rows} if other is not None else {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in main.rows:
        improved = row.last_improvement.isoformat() if row.last_improvement else ""
        line: list[object] = [row.rank, row.contestant]
        for _, slug, part in columns:
            cell = row.cells[slug]
            line.append(f"{cell.points if part is None else cell.parts.get(part, 0.0):g}")
        line += [f"{row.total:g}", improved]
        if other is not None:
            line += [other_rows[row.contestant].rank, f"{other_rows[row.contestant].total:g}"]
        writer.writerow(line)
    return buffer.getvalue()


def _png(figure: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_distribution_plot(round_: Round, board: Standings) -> str:
    """Box and dots of every contestant's points per problem on a board, as base64 PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(max(6.0, 1.1 * len(round_.slugs)), 3.8))
    axes = figure.add_subplot()
    values = [[row.cells[slug].points for row in board.rows] for slug in round_.slugs]
    worth = [round_.spec.problem(slug).points for slug in round_.slugs]
    shares = [[v / w for v in column] for column, w in zip(values, worth, strict=True)]
    positions = list(range(1, len(round_.slugs) + 1))
    if board.rows:
        axes.boxplot(shares, positions=positions, widths=0.5, showfliers=False)
        for x, column in zip(positions, shares, strict=True):
            offsets = [x + 0.18 * ((i % 5) - 2) / 2 for i in range(len(column))]
            axes.scatter(offsets, column, s=14, alpha=0.7, color="#1565c0", zorder=3)
    axes.set_xticks(positions, round_.slugs, rotation=30, ha="right", fontsize=8)
    axes.set_ylim(-0.05, 1.05)
    axes.set_ylabel("share of the problem's points")
    axes.set_title(f"Score distribution per problem ({board.board} board)")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def verdict_counts(
    round_: Round, records: list[Record], manifest: Manifest
) -> dict[str, Counter[str]]:
    """Per problem, how many judged files got each verdict (NS: contestants with no file)."""
    counts: dict[str, Counter[str]] = {slug: Counter() for slug in round_.slugs}
    for record in records:
        if record.problem in counts:
            counts[record.problem][str(record.result.verdict)] += 1
    for contestant, slug in manifest.missing:
        if slug in counts and contestant in manifest.contestants:
            counts[slug][str(Verdict.NS)] += 1
    return counts


def verdict_mix_plot(round_: Round, counts: dict[str, Counter[str]]) -> str:
    """A stacked bar per problem of the verdicts its files got, as base64 PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(max(6.0, 1.1 * len(round_.slugs)), 3.8))
    axes = figure.add_subplot()
    bottoms = [0] * len(round_.slugs)
    positions = list(range(len(round_.slugs)))
    for verdict in [str(v) for v in Verdict]:
        heights = [counts[slug][verdict] for slug in round_.slugs]
        if not any(heights):
            continue
        axes.bar(positions, heights, bottom=bottoms, label=verdict, color=VERDICT_COLOURS[verdict])
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    axes.set_xticks(positions, round_.slugs, rotation=30, ha="right", fontsize=8)
    axes.set_ylabel("files")
    axes.set_title("Verdict mix per problem")
    if any(bottoms):
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="verdict")
    return _png(figure)


def render_html(
    round_: Round,
    private: Standings,
    public: Standings,
    records: list[Record],
    manifest: Manifest,
    generated: datetime | None = None,
) -> str:
    """The standalone scoreboard page."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    counts = verdict_counts(round_, records, manifest)
    shown_private = round_.spec.leaderboard.publish_private
    template = environment.get_template(TEMPLATE)
    return template.render(
        round=round_.spec,
        slugs=round_.slugs,
        show_parts=round_.spec.leaderboard.parts,
        private=private if shown_private else None,
        public=public,
        manifest=manifest,
        colours=VERDICT_COLOURS,
        judged=len(records),
        verdict_totals=sum(counts.values(), Counter()),
        distribution_png=score_distribution_plot(round_, private if shown_private else public),
        verdict_png=verdict_mix_plot(round_, counts),
        generated=(generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    )


def publish(
    round_: Round,
    private: Standings,
    public: Standings,
    records: list[Record],
    manifest: Manifest,
) -> Published:
    """Render both scoreboards of a round."""
    return Published(
        csv=render_csv(round_, private, public),
        html=render_html(round_, private, public, records, manifest),
    )
