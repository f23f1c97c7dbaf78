"""`GET /metrics`: the queue and the workers in Prometheus's text format.

Everything is read from the database when Prometheus asks, so the numbers are the same
whichever web process answers, and no counter lives in one process's memory:

- `judge_runs{state}`: runs by state (queued, running, done, error, superseded);
- `judge_queue_depth` and `judge_queue_oldest_seconds`: what waits, and for how long;
- `judge_verdict_latency_seconds`: a histogram of the time from queueing to the result,
  over the runs finished in the last `LATENCY_WINDOW`;
- `judge_worker_heartbeat_age_seconds{worker}` and `judge_worker_judging{worker}`: each
  worker's last heartbeat and whether it is judging.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judge.service.models import Run, RunState, WorkerBeat, utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
LATENCY_WINDOW = timedelta(hours=24)


class QueueCollector(Collector):
    """Collect the service's metrics from the database at each scrape."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        with self.sessions() as session:
            by_state = dict(
                session.execute(select(Run.state, func.count()).group_by(Run.state)).all()
            )
            oldest = session.scalar(
                select(func.min(Run.queued_at)).where(Run.state == RunState.QUEUED)
            )
            finished = session.execute(
                select(Run.queued_at, Run.finished_at).where(
                    Run.state == RunState.DONE, Run.finished_at >= now - LATENCY_WINDOW
                )
            ).all()
            beats = session.scalars(select(WorkerBeat).order_by(WorkerBeat.name)).all()
        runs = GaugeMetricFamily("judge_runs", "Runs by state.", labels=["state"])
        for state in RunState:
            runs.add_metric([str(state)], float(by_state.get(state, 0)))
        yield runs
        yield GaugeMetricFamily(
            "judge_queue_depth",
            "Runs waiting for a worker.",
            value=float(by_state.get(RunState.QUEUED, 0)),
        )
        yield GaugeMetricFamily(
            "judge_queue_oldest_seconds",
            "How long the oldest queued run has waited (0: none waits).",
            value=(now - oldest).total_seconds() if oldest is not None else 0.0,
        )
        yield _latency([(end - start).total_seconds() for start, end in finished if end])
        age = GaugeMetricFamily(
            "judge_worker_heartbeat_age_seconds",
            "Seconds since each worker's last heartbeat.",
            labels=["worker"],
        )
        judging = GaugeMetricFamily(
            "judge_worker_judging", "1 while the worker judges a run.", labels=["worker"]
        )
        for beat in beats:
            age.add_metric([beat.name], (now - beat.beat_at).total_seconds())
            judging.add_metric([beat.name], 1.0 if beat.state == "judging" else 0.0)
        yield age
        yield judging


def _latency(seconds: list[float]) -> HistogramMetricFamily:
    buckets = [(f"{edge:g}", float(sum(s <= edge for s in seconds))) for edge in LATENCY_BUCKETS]
    buckets.append(("+Inf", float(len(seconds))))
    return HistogramMetricFamily(
        "judge_verdict_latency_seconds",
        "Seconds from queueing a run to its result, over the last 24 hours.",
        buckets=buckets,
        sum_value=sum(seconds),
    )


def render(sessions: Callable[[], Session]) -> bytes:
    """The metrics in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(sessions))
    return generate_latest(registry)
