"""Requests generated from the service's own OpenAPI schema (Schemathesis, on Hypothesis):
none, however odd, gets a 500. Run as an organiser so every route is reached."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.service.live import Service, start_service, stop_service

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str]]:
    service = start_service(tmp_path_factory.mktemp("fuzz"), workers=1)
    token = service.add_user("fuzzer", organiser=True)["token"]
    yield service, token
    stop_service(service)


def test_no_generated_request_gets_a_server_error(live: tuple[Service, str]) -> None:
    service, token = live
    # The schema is fetched here, with a client that is closed, and handed over as a dict.
    with httpx.Client(base_url=service.url) as client:
        document = client.get("/openapi.json").json()
    api = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    statuses: list[int] = []
    operations = [found.ok() for found in api.get_all_operations()]
    assert len(operations) >= 10

    http = requests.Session()  # one connection pool, closed at the end
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(
                base_url=service.url, session=http, headers={"Authorization": f"Bearer {token}"}
            )
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:200]}")

        check()
    http.close()
    gc.collect()  # a socket left open anywhere above is reported here, in this test
    assert not failures, "\n".join(failures[:10])
    assert len(statuses) > 100 and {200, 422} <= set(statuses)  # reached and refused
