"""The pages over HTTP: login with sessions rotated, CSRF tokens and the Origin check on
every form, login throttling, and who may open what."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.live import SOLUTION, Service, form_token, start_service, stop_service

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    started = start_service(tmp_path_factory.mktemp("pages"), workers=1)
    yield started
    stop_service(started)


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def logged_in(service: Service, name: str) -> tuple[httpx.Client, str]:
    """Log `name` in (a new user); return the browser-like client and its CSRF token."""
    password = service.add_user(name)["password"]
    client = httpx.Client(base_url=service.url, headers={**HTML, "Origin": service.url})
    token = form_token(client.get("/login").text)
    done = client.post("/login", data={"name": name, "password": password, "csrf": token})
    assert done.status_code == 303 and done.headers["location"] == "/"
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    return client, form_token(client.get("/").text)


def submit_form(client: httpx.Client, csrf: str, **headers: str) -> httpx.Response:
    return client.post(
        "/problems/add-arrays/submit",
        data={"csrf": csrf},
        files={"file": ("solution.py", SOLUTION.read_bytes())},
        headers=headers,
    )


def test_pages_need_a_login_and_send_a_browser_to_the_login_page(service: Service) -> None:
    for path in ("/", "/problems/add-arrays", "/submissions", "/problems/add-arrays/starter.py"):
        response = httpx.get(f"{service.url}{path}", headers=HTML)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_a_form_without_the_session_token_or_from_another_site_is_refused(
    service: Service,
) -> None:
    client, csrf = logged_in(service, "erin")
    assert submit_form(client, "").status_code == 403
    assert submit_form(client, "forged-token").status_code == 403
    assert submit_form(client, csrf, Origin="http://evil.example").status_code == 403
    other, other_csrf = logged_in(service, "fred")
    assert submit_form(client, other_csrf).status_code == 403  # another session's token
    before = len(client.get("/api/v1/submissions").json())
    accepted = submit_form(client, csrf)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/submissions"
    assert len(client.get("/api/v1/submissions").json()) == before + 1
    assert "solution.py" in client.get("/submissions").text
    other.close()
    client.close()


def test_a_login_makes_a_new_session_and_logging_out_ends_it(service: Service) -> None:
    client, csrf = logged_in(service, "gina")
    first = client.cookies["judge_session"]
    password = service.add_user("gina2")["password"]
    token = form_token(client.get("/login").text)
    client.post("/login", data={"name": "gina2", "password": password, "csrf": token})
    assert client.cookies["judge_session"] != first
    stale = httpx.get(f"{service.url}/", headers=HTML, cookies={"judge_session": first})
    assert stale.status_code == 303  # the old session is gone
    csrf = form_token(client.get("/").text)
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/").status_code == 303
    client.close()


def test_behind_a_tls_proxy_the_cookies_travel_over_https_only(service: Service) -> None:
    password = service.add_user("ivan")["password"]
    proxied = {**HTML, "Origin": service.url, "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=service.url, headers=proxied) as client:
        assert "secure" not in httpx.get(f"{service.url}/login").headers["set-cookie"].lower()
        page = client.get("/login")
        assert "; secure" in page.headers["set-cookie"].lower()
        done = client.post(
            "/login",
            data={"name": "ivan", "password": password, "csrf": form_token(page.text)},
            # A Secure cookie is not sent back over plain HTTP: hand it over as the
            # browser would over HTTPS.
            headers={"Cookie": page.headers["set-cookie"].split(";")[0]},
        )
    assert done.status_code == 303
    session_cookie = done.headers.get_list("set-cookie")[0].lower()
    assert session_cookie.startswith("judge_session=") and "; secure" in session_cookie


def test_repeated_wrong_passwords_are_throttled(service: Service) -> None:
    service.add_user("hank")
    with httpx.Client(base_url=service.url, headers={**HTML, "Origin": service.url}) as client:
        codes = []
        for _ in range(7):
            token = form_token(client.get("/login").text)
            wrong = {"name": "hank", "password": "wrong", "csrf": token}
            codes.append(client.post("/login", data=wrong).status_code)
        assert codes[:5] == [303] * 5 and codes[5:] == [429, 429]


def test_a_bad_upload_on_the_page_says_why_and_stores_nothing(service: Service) -> None:
    client, csrf = logged_in(service, "iris")
    response = client.post(
        "/problems/add-arrays/submit",
        data={"csrf": csrf},
        files={"file": ("notes.txt", b"hello")},
    )
    assert response.status_code == 415 and "submit a .py or .ipynb file" in response.text
    assert client.get("/api/v1/submissions").json() == []
    client.close()


def test_the_practice_zip_holds_the_public_folder_and_no_hidden_answers(
    service: Service, tmp_path: Path
) -> None:
    client, _ = logged_in(service, "jade")
    response = client.get("/problems/threshold/practice.zip")
    assert response.status_code == 200
    archive = tmp_path / "practice.zip"
    archive.write_bytes(response.content)
    import zipfile

    names = zipfile.ZipFile(archive).namelist()
    assert any(name.endswith("starter.py") for name in names)
    assert not any("hidden" in name or "answers" in name for name in names), names
    client.close()


def test_an_organiser_imports_contestants_and_gets_printable_slips_that_work(
    service: Service,
) -> None:
    password = service.add_user("orga", organiser=True)["password"]
    client = httpx.Client(base_url=service.url, headers={**HTML, "Origin": service.url})
    token = form_token(client.get("/login").text)
    client.post("/login", data={"name": "orga", "password": password, "csrf": token})
    csrf = form_token(client.get("/admin").text)
    sheet = client.post(
        "/admin/users", data={"csrf": csrf}, files={"file": ("club.csv", b"kim\nlou\n")}
    )
    assert sheet.status_code == 200 and sheet.text.count('class="slip"') == 2
    slips = re.findall(
        r"<b>Name:</b> (\w+)</div>\s*<div><b>Password:</b> <code>([^<]+)</code>", sheet.text
    )
    assert [name for name, _ in slips] == ["kim", "lou"]
    with httpx.Client(base_url=service.url, headers={**HTML, "Origin": service.url}) as kim:
        token = form_token(kim.get("/login").text)
        done = kim.post("/login", data={"name": "kim", "password": slips[0][1], "csrf": token})
        assert done.status_code == 303 and done.headers["location"] == "/"
    again = client.post(
        "/admin/users", data={"csrf": csrf}, files={"file": ("club.csv", b"kim\nmia\n")}
    )
    assert again.status_code == 422 and "exists already" in again.text
    client.close()


def test_the_service_stops_promptly_with_a_browser_following_its_events(tmp_path: Path) -> None:
    import threading
    import time

    own = start_service(tmp_path, workers=1)
    client, _ = logged_in(own, "nina")
    opened = threading.Event()

    def follow() -> None:
        try:
            with client.stream("GET", "/events", timeout=None) as stream:
                for _ in stream.iter_lines():
                    opened.set()
        except httpx.HTTPError:
            pass

    threading.Thread(target=follow, daemon=True).start()
    assert opened.wait(10)
    started = time.monotonic()
    stop_service(own)
    assert time.monotonic() - started < 15
    client.close()


def test_many_open_event_streams_each_get_every_verdict_once(service: Service) -> None:
    """60 open tabs of one contestant: one reader of the event table serves them all;
    each tab gets the events after the page it opened, a stream that asks for all
    (Last-Event-ID: 0) gets them all, and no stream gets one twice."""
    import asyncio
    import json

    client, csrf = logged_in(service, "olga")

    def submit() -> None:
        made = client.post(
            "/problems/add-arrays/submit",
            data={"csrf": csrf},
            files={"file": ("solution.py", SOLUTION.read_bytes())},
        )
        assert made.status_code == 303, made.text

    def events_of_olga() -> list[tuple[int, int, str]]:
        return service.db(
            "select e.id, e.submission_id, json_extract(e.payload, '$.state') from event e "
            "join user u on u.id = e.user_id where u.name = 'olga' order by e.id"
        )

    def judged() -> bool:
        return bool(events_of_olga()) and events_of_olga()[-1][2] == "done"

    submit()
    wait_until(judged)
    after = int(re.search(r'data-after="(\d+)"', client.get("/submissions").text).group(1))

    async def follow(web: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list:
        seen = []
        async with web.stream("GET", url, headers=headers, timeout=60) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("data: "):
                    event = json.loads(line[6:])
                    seen.append((event_id, event["submission"], event["state"]))
                    if len([s for s in seen if s[2] == "done"]) == (2 if url == "/events" else 1):
                        return seen
        return seen

    async def scenario() -> list[list]:
        async with httpx.AsyncClient(
            base_url=service.url, cookies=dict(client.cookies), headers=HTML
        ) as web:
            tabs = [follow(web, f"/events?after={after}", {}) for _ in range(59)]
            tabs.append(follow(web, "/events", {"Last-Event-ID": "0"}))
            streams = [asyncio.create_task(tab) for tab in tabs]
            await asyncio.sleep(2.0)
            await asyncio.to_thread(submit)
            return await asyncio.wait_for(asyncio.gather(*streams), 60)

    seen = asyncio.run(scenario())
    client.close()
    everything = events_of_olga()
    assert seen[59] == everything  # all of them, in order, once
    assert all(tab == [e for e in everything if e[0] > after] for tab in seen[:59])
    assert [state for _, _, state in seen[0]] == ["queued", "running", "done"]


def test_hints_open_one_at_a_time_and_a_running_round_closes_its_problems_practice(
    service: Service,
) -> None:
    client, csrf = logged_in(service, "pia")
    first = client.get("/problems/threshold")
    assert "Reveal hint 1 of 2" in first.text and "The editorial" in first.text
    assert client.post("/problems/threshold/hint", data={"csrf": csrf}).status_code == 303
    assert client.post("/problems/threshold/hint", data={"csrf": "forged"}).status_code == 403
    shown = client.get("/problems/threshold").text
    assert "Reveal hint 2 of 2" in shown and shown.count("<li>") >= 1
    client.post("/problems/threshold/hint", data={"csrf": csrf})
    client.post("/problems/threshold/hint", data={"csrf": csrf})  # none left: nothing more
    assert "Every hint is revealed" in client.get("/problems/threshold").text
    assert service.db(
        "select number from hint_use h join user u on u.id = h.user_id where u.name = 'pia'"
    ) == [(1,), (2,)]
    assert "Editorial: threshold" in client.get("/problems/threshold/editorial").text

    boss_token = service.add_user("pia-boss", organiser=True)["token"]
    source = "name: lock-round\ntitle: Lock\nduration_minutes: 30\nproblems:\n"
    source += "  - {slug: threshold, points: 100}\n"
    with service.client(boss_token) as boss:
        assert boss.post("/api/v1/rounds", json={"source": source}).status_code == 201
        assert boss.post("/api/v1/rounds/lock-round/start").status_code == 200
        try:
            locked = client.get("/problems/threshold").text
            assert 'is in <a href="/rounds/lock-round">lock-round</a>' in locked
            assert "Reveal hint" not in locked
            editorial = client.get("/problems/threshold/editorial")
            assert editorial.status_code == 403 and "lock-round ends" in editorial.text
            practice = client.post(
                "/problems/threshold/submit",
                data={"csrf": csrf},
                files={"file": ("solution.py", b"print(1)\n")},
            )
            assert practice.status_code == 403 and "submit it there" in practice.text
            assert "submit it there" not in client.get("/problems/add-arrays").text
        finally:
            assert boss.post("/api/v1/rounds/lock-round/end").status_code == 200
    assert client.get("/problems/threshold/editorial").status_code == 200
    client.close()


def test_a_round_that_allows_hints_charges_them_and_its_editorials_wait_for_the_board(
    service: Service,
) -> None:
    client, csrf = logged_in(service, "quin")
    boss_token = service.add_user("quin-boss", organiser=True)["token"]
    source = (
        "name: hint-round\ntitle: Hints allowed\nduration_minutes: 30\n"
        "hints: {allowed: true, cost: 10}\neditorials: after_publish\n"
        "problems:\n  - {slug: add-arrays, points: 50}\n"
    )
    with service.client(boss_token) as boss:
        assert boss.post("/api/v1/rounds", json={"source": source}).status_code == 201
        assert boss.post("/api/v1/rounds/hint-round/start").status_code == 200
        try:
            assert "each costs 10 points of its problem" in client.get("/rounds/hint-round").text
            shown = client.get("/problems/add-arrays").text
            assert "each hint you reveal costs 10 points" in shown
            assert "Reveal hint 1 of 2" in shown
            assert "The editorial opens when the final board of hint-round" in shown
            assert client.post("/problems/add-arrays/hint", data={"csrf": csrf}).status_code == 303
            assert "Reveal hint 2 of 2" in client.get("/problems/add-arrays").text
            made = client.post(
                "/rounds/hint-round/submit",
                data={"csrf": csrf, "problem": "add-arrays"},
                files={"file": ("solution.py", SOLUTION.read_bytes())},
            )
            assert made.status_code == 303, made.text
            wait_until(
                lambda: (
                    service.db(
                        "select count(*) from run r join submission s on s.id = r.submission_id "
                        "join round o on o.id = s.round_id where o.name = 'hint-round' "
                        "and r.state = 'done'"
                    )
                    == [(1,)]
                )
            )
            rows = boss.get("/api/v1/rounds/hint-round/scoreboard").json()["private"]["rows"]
            quin = next(row for row in rows if row["contestant"] == "quin")
            assert quin["total"] == 40.0  # 50, less one hint at 10
            assert quin["cells"]["add-arrays"]["hints"] == 1
        finally:
            assert boss.post("/api/v1/rounds/hint-round/end").status_code == 200
        ended = client.get("/problems/add-arrays/editorial")
        assert ended.status_code == 403 and "final board of hint-round" in ended.text
        assert boss.post("/api/v1/rounds/hint-round/publish").status_code == 200
    assert client.get("/problems/add-arrays/editorial").status_code == 200
    assert service.db(
        "select h.number, h.round_id is not null from hint_use h join user u on u.id = h.user_id "
        "where u.name = 'quin'"
    ) == [(1, 1)]
    client.close()
