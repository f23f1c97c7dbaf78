"""Who may do what: every route against an anonymous caller, the owner, another
contestant and an organiser; API calls with tokens, pages with logged-in browsers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.service.live import SOLUTION, Service, start_service, stop_service

ROUND = """name: auth-round
title: Authorization round
duration_minutes: 60
problems:
  - {slug: add-arrays, points: 50}
"""


@dataclass
class World:
    service: Service
    api: dict[str, httpx.Client]  # anonymous, owner, other, organiser: bearer tokens
    pages: dict[str, tuple[httpx.Client, str]]  # the same people logged in: client, csrf
    submission: int


def browser(service: Service, name: str | None, password: str | None) -> tuple[httpx.Client, str]:
    client = httpx.Client(
        base_url=service.url, headers={"Accept": "text/html", "Origin": service.url}
    )
    if name is None:
        return client, ""
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post("/login", data={"name": name, "password": password, "csrf": token.group(1)})
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert csrf
    return client, csrf.group(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    service = start_service(tmp_path_factory.mktemp("authz"), workers=1)
    people = {
        "owner": service.add_user("olive"),
        "other": service.add_user("oscar"),
        "organiser": service.add_user("orla", organiser=True),
    }
    api = {"anonymous": httpx.Client(base_url=service.url)}
    api |= {role: service.client(made["token"]) for role, made in people.items()}
    pages = {"anonymous": browser(service, None, None)}
    pages |= {
        role: browser(service, made["name"], made["password"]) for role, made in people.items()
    }
    assert api["organiser"].post("/api/v1/rounds", json={"source": ROUND}).status_code == 201
    assert api["organiser"].post("/api/v1/rounds/auth-round/start").status_code == 200
    made = api["owner"].post(
        "/api/v1/submissions",
        data={"problem": "add-arrays", "round": "auth-round"},
        files={"file": ("solution.py", SOLUTION.read_bytes())},
    )
    assert made.status_code == 201
    yield World(service, api, pages, made.json()["id"])
    for client in api.values():
        client.close()
    for client, _ in pages.values():
        client.close()
    stop_service(service)


ROLES = ("anonymous", "owner", "other", "organiser")
# (method, path, expected status for anonymous, owner, other contestant, organiser)
API_ROUTES = [
    ("GET", "/api/v1/submissions", (401, 200, 200, 200)),
    ("GET", "/api/v1/submissions/{id}", (401, 200, 404, 200)),
    ("POST", "/api/v1/submissions/{id}/rejudge", (401, 403, 403, 200)),
    ("GET", "/api/v1/rounds", (401, 200, 200, 200)),
    ("GET", "/api/v1/rounds/auth-round", (401, 200, 200, 200)),
    ("POST", "/api/v1/rounds", (401, 403, 403, 422)),  # the organiser's body is empty
    ("POST", "/api/v1/rounds/auth-round/thaw", (401, 403, 403, 200)),
    ("POST", "/api/v1/rounds/auth-round/rejudge", (401, 403, 403, 422)),
    ("GET", "/api/v1/rounds/auth-round/scoreboard", (401, 200, 200, 200)),
    ("GET", "/api/v1/queue", (401, 403, 403, 200)),
]
PAGE_ROUTES = [
    ("GET", "/", (303, 200, 200, 200)),
    ("GET", "/submissions", (303, 200, 200, 200)),
    ("GET", "/problems/add-arrays", (303, 200, 200, 200)),
    # add-arrays is in auth-round, running: its hints and editorial wait for the end.
    ("GET", "/problems/add-arrays/editorial", (303, 403, 403, 200)),
    ("POST", "/problems/add-arrays/hint", (303, 403, 403, 303)),
    ("GET", "/problems/threshold/editorial", (303, 200, 200, 200)),
    ("POST", "/problems/threshold/hint", (303, 303, 303, 303)),
    ("GET", "/rounds/auth-round", (303, 200, 200, 200)),
    ("GET", "/rounds/auth-round/scoreboard", (303, 200, 200, 200)),
    ("GET", "/admin", (303, 403, 403, 200)),
    ("GET", "/admin/rounds/auth-round/scoreboard.csv", (303, 403, 403, 200)),
    ("GET", "/admin/rounds/auth-round/submissions.zip", (303, 403, 403, 200)),
    ("POST", "/admin/rounds/auth-round/thaw", (303, 403, 403, 303)),
]


@pytest.mark.parametrize(("method", "path", "expected"), API_ROUTES, ids=lambda v: str(v))
def test_every_api_route_answers_each_role_as_it_should(
    world: World, method: str, path: str, expected: tuple[int, ...]
) -> None:
    url = path.format(id=world.submission)
    got = tuple(world.api[role].request(method, url).status_code for role in ROLES)
    assert got == expected


@pytest.mark.parametrize(("method", "path", "expected"), PAGE_ROUTES, ids=lambda v: str(v))
def test_every_page_answers_each_role_as_it_should(
    world: World, method: str, path: str, expected: tuple[int, ...]
) -> None:
    got = []
    for role in ROLES:
        client, csrf = world.pages[role]
        data = {"csrf": csrf} if method == "POST" else None
        got.append(client.request(method, path, data=data).status_code)
    assert tuple(got) == expected


def test_the_private_board_and_others_code_stay_hidden_from_contestants(world: World) -> None:
    board = world.api["other"].get("/api/v1/rounds/auth-round/scoreboard").json()
    assert board["private"] is None
    listed = world.api["other"].get("/api/v1/submissions").json()
    assert all(item["id"] != world.submission for item in listed)
    page = world.pages["other"][0].get("/submissions").text
    assert "solution.py" not in page
