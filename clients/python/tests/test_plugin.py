"""The pytest plugin, run as a user runs it: an inner test suite under pytester."""
from __future__ import annotations

import pytest

from vendor_api_emulator import ControlClient

INNER = '''
import json, urllib.request, base64
from pathlib import Path

AUTH = "Basic " + base64.b64encode(b"11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret").decode()

def create(base_url):
    req = urllib.request.Request(base_url + "/api/rest/v2.9/customers", method="POST",
        data=json.dumps({"companyName": "Plugin Ltd", "locations": [{"suburb": "Perth"}], "contacts": [{"name": "Bo"}]}).encode(),
        headers={"content-type": "application/json", "authorization": AUTH})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())

def test_one(emulator_session):
    Path("ids.txt").open("a").write(emulator_session.id + "\\n")
    assert emulator_session.base_url.endswith("/_sessions/" + emulator_session.id)
    assert create(emulator_session.base_url)["customerid"] == 906
    assert emulator_session.count_requests(operation="customer.create") == 1

def test_two_starts_fresh(emulator_session):
    Path("ids.txt").open("a").write(emulator_session.id + "\\n")
    assert create(emulator_session.base_url)["customerid"] == 906
    assert emulator_session.count_requests() == 1

def test_emulator_is_the_default_state(emulator):
    assert emulator.session_id is None
    assert emulator.health()["status"] == "ok"
'''


def test_each_test_gets_its_own_session_which_is_deleted_after_it(pytester: pytest.Pytester, emulator_url: str) -> None:
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest("-p", "vendor_api_emulator.pytest_plugin", f"--emulator-url={emulator_url}")
    result.assert_outcomes(passed=3)
    ids = (pytester.path / "ids.txt").read_text().split()
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(i.startswith("test_") for i in ids)
    live = [s["id"] for s in ControlClient(emulator_url).sessions()["sessions"]]
    assert not set(ids) & set(live)


def test_the_url_comes_from_the_environment_when_no_option_is_given(pytester: pytest.Pytester, emulator_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENDOR_API_EMULATOR_URL", emulator_url)
    pytester.makepyfile(test_env="def test_url(emulator):\n    assert emulator.url == %r\n    assert emulator.health()['status'] == 'ok'\n" % emulator_url)
    pytester.runpytest("-p", "vendor_api_emulator.pytest_plugin").assert_outcomes(passed=1)


def test_a_failing_test_still_deletes_its_session(pytester: pytest.Pytester, emulator_url: str) -> None:
    pytester.makepyfile(test_fails="from pathlib import Path\ndef test_x(emulator_session):\n    Path('id.txt').write_text(emulator_session.id)\n    emulator_session.reset()\n    assert False\n")
    pytester.runpytest("-p", "vendor_api_emulator.pytest_plugin", f"--emulator-url={emulator_url}").assert_outcomes(failed=1)
    sid = (pytester.path / "id.txt").read_text()
    assert sid not in [s["id"] for s in ControlClient(emulator_url).sessions()["sessions"]]
