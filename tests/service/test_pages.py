"""The pages over HTTP: login with sessions rotated, CSRF tokens and the Origin check on
every form, login throttling, and who may open what."""

from __future__ import annotations

import re
from collections.abc import Iterator
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
    assert response.status_code == 415 and ".py file or a .ipynb" in response.text
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
