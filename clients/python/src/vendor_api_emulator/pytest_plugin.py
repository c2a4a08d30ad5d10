"""pytest plugin: an `emulator` control client, and a fresh `emulator_session` for every test.

The emulator's URL comes from `--emulator-url`, else `VENDOR_API_EMULATOR_URL`, else
http://127.0.0.1:8080; a control token from `--emulator-token` or `EMULATOR_CONTROL_TOKEN`.
Installed with the package, pytest loads it by itself (entry point `pytest11`); without installing,
add `-p vendor_api_emulator.pytest_plugin`.

    def test_create(emulator_session):
        client = MyVendorClient(base_url=emulator_session.base_url + "/api/rest/v2.9")
        ...
        assert emulator_session.count_requests(operation="customer.create") == 1
"""
from __future__ import annotations

import os
import re
import uuid
from typing import Iterator

import pytest

from .client import ControlClient, EmulatorSession

DEFAULT_URL = "http://127.0.0.1:8080"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vendor-api-emulator")
    group.addoption("--emulator-url", default=None, help=f"the emulator's URL (default: $VENDOR_API_EMULATOR_URL or {DEFAULT_URL})")
    group.addoption("--emulator-token", default=None, help="its control token (default: $EMULATOR_CONTROL_TOKEN)")


@pytest.fixture(scope="session")
def emulator(pytestconfig: pytest.Config) -> ControlClient:
    """The control plane of the emulator under test, acting on its default state."""
    url = pytestconfig.getoption("--emulator-url") or os.environ.get("VENDOR_API_EMULATOR_URL") or DEFAULT_URL
    token = pytestconfig.getoption("--emulator-token") or os.environ.get("EMULATOR_CONTROL_TOKEN") or None
    return ControlClient(str(url), token=token)


def _session_id(test_name: str) -> str:
    # Ids are 1-64 of letters, digits, '.', '_', '-': the test's name, shortened, and a random tail.
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", test_name).strip("-")[:40] or "test"
    return f"{name}-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def emulator_session(emulator: ControlClient, request: pytest.FixtureRequest) -> Iterator[EmulatorSession]:
    """A session of its own for this test: fixtures data, empty journal, no faults, real clock.

    `base_url` is the emulator URL with the `/_sessions/<id>` prefix: give it (plus the vendor's
    base path) to the vendor client under test. The session is deleted after the test.
    """
    session = emulator.session(_session_id(request.node.name))
    try:
        yield session
    finally:
        session.delete()
