"""Failed sign-in throttling: the throttle itself on a fake clock, then the API token endpoint.

The login form's side is in tests/web/test_login.py.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from conftest import PASSWORD, TEST_SECRET_KEY, bearer_for, make_city, make_users
from fastapi import FastAPI
from fastapi.testclient import TestClient

from datapolis.config import Settings
from datapolis.orgs.models import Role
from datapolis.orgs.throttle import LoginThrottle, app_account, user_account
from datapolis.registry.db import Registry
from datapolis.web.app import create_app

TOKEN = "/api/v1/auth/token"
WINDOW = 15 * 60
HERE, THERE = "10.0.0.1", "10.0.0.2"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(clock: FakeClock) -> LoginThrottle:
    return LoginThrottle(
        max_failures=5, window=timedelta(minutes=15), max_failures_per_address=50, clock=clock
    )


def fail(throttle: LoginThrottle, account: str, address: str = HERE, times: int = 1) -> None:
    for _ in range(times):
        assert throttle.admit(account, address) is None
        throttle.failed(account, address)


# --- the throttle --------------------------------------------------------------------------


def test_locks_the_account_after_max_failures(
    throttle: LoginThrottle, caplog: pytest.LogCaptureFixture
) -> None:
    fail(throttle, "user:alice", times=4)
    assert not caplog.records
    fail(throttle, "user:alice")
    assert throttle.admit("user:alice", HERE) == WINDOW
    assert throttle.admit("user:ALICE", THERE) == WINDOW  # any case, any address
    assert throttle.admit("user:bob", HERE) is None
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert "'user:alice'" in record.getMessage() and HERE in record.getMessage()


def test_lock_ends_after_the_window(throttle: LoginThrottle, clock: FakeClock) -> None:
    fail(throttle, "user:alice", times=5)
    clock.advance(WINDOW - 61)
    assert throttle.admit("user:alice", HERE) == 61
    clock.advance(60.5)
    assert throttle.admit("user:alice", HERE) == 1  # rounded up, never 0
    clock.advance(0.5)
    assert throttle.admit("user:alice", HERE) is None
    throttle.failed("user:alice", HERE)
    fail(throttle, "user:alice", times=3)  # counting starts afresh: 4 failures so far
    assert throttle.admit("user:alice", HERE) is None


def test_only_failures_within_the_window_count(throttle: LoginThrottle, clock: FakeClock) -> None:
    fail(throttle, "user:alice", times=4)
    clock.advance(WINDOW)
    fail(throttle, "user:alice", times=4)
    assert throttle.admit("user:alice", HERE) is None


def test_success_resets_the_account(throttle: LoginThrottle) -> None:
    fail(throttle, "user:alice", times=4)
    assert throttle.admit("user:alice", HERE) is None
    throttle.succeeded("user:alice", HERE)
    fail(throttle, "user:alice", times=4)
    assert throttle.admit("user:alice", HERE) is None


def test_attempts_still_being_checked_count_as_failures(throttle: LoginThrottle) -> None:
    for _ in range(5):
        assert throttle.admit("user:alice", HERE) is None  # no outcome yet
    assert throttle.admit("user:alice", HERE) == WINDOW


def test_concurrent_attempts_cannot_exceed_the_limit(throttle: LoginThrottle) -> None:
    admitted: list[bool] = []
    start = threading.Barrier(20)

    def attempt() -> None:
        start.wait()
        admitted.append(throttle.admit("user:alice", HERE) is None)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 5


def test_address_ceiling_across_many_names(clock: FakeClock) -> None:
    throttle = LoginThrottle(max_failures=5, max_failures_per_address=3, clock=clock)
    fail(throttle, "user:a")
    clock.advance(10)
    fail(throttle, "user:b")
    fail(throttle, "user:c")
    assert throttle.admit("user:d", HERE) == WINDOW - 10  # until the first failure expires
    assert throttle.admit("user:d", THERE) is None
    clock.advance(WINDOW - 10)
    assert throttle.admit("user:d", HERE) is None


def test_successes_do_not_count_towards_the_address_ceiling(clock: FakeClock) -> None:
    throttle = LoginThrottle(max_failures=5, max_failures_per_address=2, clock=clock)
    for name in ("user:a", "user:b", "user:c"):
        assert throttle.admit(name, HERE) is None
        throttle.succeeded(name, HERE)
    fail(throttle, "user:d")
    assert throttle.admit("user:e", HERE) is None


def test_address_ceiling_zero_means_none(clock: FakeClock) -> None:
    throttle = LoginThrottle(max_failures=5, max_failures_per_address=0, clock=clock)
    for n in range(100):
        fail(throttle, f"user:{n}")
    assert throttle.admit("user:another", HERE) is None


def test_account_names_ignore_case_and_surrounding_space() -> None:
    assert user_account(" Platform_Admin ") == user_account("platform_admin")
    assert app_account("DP_ABC") == app_account("dp_abc") != user_account("dp_abc")


# --- the API token endpoint ----------------------------------------------------------------


def _password_grant(client: TestClient, username: str, password: str) -> httpx.Response:
    return client.post(TOKEN, data={"username": username, "password": password})


def _assert_refused(response: httpx.Response, longest: int = WINDOW) -> None:
    assert response.status_code == 429, response.text
    assert 0 < int(response.headers["retry-after"]) <= longest
    assert "too many failed sign-in attempts" in response.json()["detail"]
    assert "access_token" not in response.text


def test_password_grant_refuses_even_the_right_password_once_locked(client: TestClient) -> None:
    for _ in range(5):
        assert _password_grant(client, "org_user", "wrong-password!").status_code == 401
    _assert_refused(_password_grant(client, "org_user", PASSWORD))
    _assert_refused(_password_grant(client, "ORG_USER", PASSWORD))
    assert _password_grant(client, "org_admin", PASSWORD).status_code == 200


def test_password_grant_success_resets_the_count(client: TestClient) -> None:
    for _ in range(2):
        for _ in range(4):
            assert _password_grant(client, "org_user", "wrong-password!").status_code == 401
        assert _password_grant(client, "org_user", PASSWORD).status_code == 200


def test_unknown_usernames_are_locked_alike(client: TestClient) -> None:
    for _ in range(5):
        assert _password_grant(client, "nobody", "whatever-it-is").status_code == 401
    _assert_refused(_password_grant(client, "nobody", "whatever-it-is"))


def test_client_credentials_locked_by_app_key(client: TestClient) -> None:
    created = client.post(
        "/api/v1/apps", json={"name": "户籍系统"}, headers=bearer_for(client, Role.ORG_ADMIN)
    )
    assert created.status_code == 201, created.text
    app_key, secret = created.json()["app_key"], created.json()["app_secret"]

    def grant(secret: str, key: str = app_key) -> httpx.Response:
        return client.post(
            TOKEN,
            data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret},
        )

    for _ in range(5):
        assert grant("not-the-secret").status_code == 401
    _assert_refused(grant(secret))
    _assert_refused(grant(secret, key=app_key.upper()))
    basic = httpx.BasicAuth(app_key, secret)
    _assert_refused(client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=basic))
    assert _password_grant(client, "org_admin", PASSWORD).status_code == 200


def test_lock_ends_after_the_window_over_http(app: FastAPI, client: TestClient) -> None:
    clock = FakeClock()
    app.state.login_throttle = LoginThrottle(max_failures=5, clock=clock)
    for _ in range(5):
        assert _password_grant(client, "org_user", "wrong-password!").status_code == 401
    clock.advance(WINDOW - 1)
    refused = _password_grant(client, "org_user", PASSWORD)
    _assert_refused(refused)
    assert refused.headers["retry-after"] == "1"
    clock.advance(1)
    assert _password_grant(client, "org_user", PASSWORD).status_code == 200


def test_limits_come_from_the_settings(sqlite_registry: Registry, tmp_path: Path) -> None:
    with sqlite_registry.session() as session:
        make_users(session, make_city(session))
    settings = Settings(
        env="test",
        home=tmp_path,
        secret_key=TEST_SECRET_KEY,
        login_max_failures=2,
        login_lockout_minutes=1,
        login_max_failures_per_ip=3,
    )
    with TestClient(create_app(settings, sqlite_registry), base_url="https://testserver") as c:
        for _ in range(2):
            assert _password_grant(c, "org_user", "wrong-password!").status_code == 401
        _assert_refused(_password_grant(c, "org_user", PASSWORD), longest=60)
        # A third name's failure reaches the address ceiling: every name is refused from here.
        assert _password_grant(c, "auditor", "wrong-password!").status_code == 401
        _assert_refused(_password_grant(c, "platform_admin", PASSWORD), longest=60)
