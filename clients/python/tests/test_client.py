from __future__ import annotations

import uuid

import pytest

from vendor_api_emulator import ControlClient, ControlError
from vendor import NEW_CUSTOMER, rackcorp


@pytest.fixture
def control(emulator_url: str) -> ControlClient:
    return ControlClient(emulator_url)


def fresh_id() -> str:
    return f"py-{uuid.uuid4().hex[:12]}"


def test_health_answers_ok_with_the_four_vendors(control: ControlClient) -> None:
    health = control.health()
    assert health["status"] == "ok"
    assert [v["name"] for v in health["vendors"]] == ["rackcorp", "emailsrvr", "ispcrm", "mgmt"]


def test_a_session_isolates_data_and_journal_and_is_deleted(control: ControlClient) -> None:
    session = control.session(fresh_id())
    assert session.base_url == f"{control.url}/_sessions/{session.id}"
    created = rackcorp(session.base_url, "customer.create", **NEW_CUSTOMER)
    assert created == {"code": "OK", "message": "Customer Created Successfully", "customerid": 906}
    assert rackcorp(session.base_url, "customer.get", id=906)["customer"]["companyName"] == "Python Pty Ltd"
    # Another session, and the default state, start from the fixtures: 906 does not exist there.
    other = control.session(fresh_id())
    assert rackcorp(other.base_url, "customer.get", id=906)["code"] == "FAULT"
    assert session.count_requests(operation="customer.create") == 1
    assert other.count_requests(operation="customer.create") == 0
    assert session.id in [s["id"] for s in control.sessions()["sessions"]]
    assert session.delete() is True
    assert other.delete() is True
    assert session.id not in [s["id"] for s in control.sessions()["sessions"]]
    assert session.delete() is False


def test_journal_entries_carry_lower_cased_header_names(control: ControlClient) -> None:
    session = control.session(fresh_id())
    try:
        rackcorp(session.base_url, "customer.get", headers={"X-Trace-Id": "trace-7"}, id=123)
        [entry] = session.requests(vendor="rackcorp", limit=5)
        assert entry["operation"] == "customer.get"
        assert entry["headers"]["x-trace-id"] == "trace-7"
        assert "X-Trace-Id" not in entry["headers"]
        assert session.clear_requests()["cleared"] == 1
        assert session.requests() == []
    finally:
        session.delete()


def test_reset_puts_the_fixtures_back(control: ControlClient) -> None:
    session = control.session(fresh_id())
    try:
        rackcorp(session.base_url, "customer.create", **NEW_CUSTOMER)
        assert session.reset()["reset"] == "all"
        assert rackcorp(session.base_url, "customer.get", id=906)["code"] == "FAULT"
        assert session.count_requests() == 1  # reset empties the journal; this is the get above
    finally:
        session.delete()


def test_a_fault_rule_fires_once_and_is_counted(control: ControlClient) -> None:
    session = control.session(fresh_id())
    try:
        rule = session.add_fault(vendor="rackcorp", operation="customer.create", times=1, preset="fault", message="Try again later")
        assert rule["kind"] == "preset"
        first = rackcorp(session.base_url, "customer.create", **NEW_CUSTOMER)
        assert first["code"] == "FAULT" and first["message"] == "Try again later"
        assert rackcorp(session.base_url, "customer.create", **NEW_CUSTOMER)["code"] == "OK"
        [listed] = session.faults()
        assert (listed["id"], listed["fired"], listed["exhausted"]) == (rule["id"], 1, True)
        assert session.remove_fault(rule["id"]) == {"removed": 1}
        assert session.faults() == []
    finally:
        session.delete()


def test_the_clock_freezes_advances_and_returns(control: ControlClient) -> None:
    session = control.session(fresh_id())
    try:
        assert session.set_clock(now="2030-01-01T00:00:00Z")["now"] == "2030-01-01T00:00:00.000Z"
        assert session.set_clock(advance=3600)["now"] == "2030-01-01T01:00:00.000Z"
        assert session.clock()["frozen"] is True
        assert control.clock()["frozen"] is False  # the default state keeps real time
        assert session.set_clock(real=True)["frozen"] is False
        with pytest.raises(ValueError):
            session.set_clock(now=1, advance=2)
    finally:
        session.delete()


def test_snapshots_carry_data_between_sessions(control: ControlClient) -> None:
    source, target, name = control.session(fresh_id()), control.session(fresh_id()), fresh_id()
    try:
        rackcorp(source.base_url, "customer.create", **NEW_CUSTOMER)
        assert source.snapshot(name)["name"] == name
        assert name in [s["name"] for s in control.snapshots()]
        target.restore(name)
        assert rackcorp(target.base_url, "customer.get", id=906)["customer"]["companyName"] == "Python Pty Ltd"
    finally:
        control.delete_snapshot(name)
        source.delete()
        target.delete()


def test_errors_raise_control_error_with_status_and_body(control: ControlClient) -> None:
    with pytest.raises(ControlError) as caught:
        control.delete_session("never-made-" + fresh_id())
    assert caught.value.status == 404
    with pytest.raises(ControlError) as bad:
        control.add_fault(vendor="rackcorp", status=503, drop=True)
    assert bad.value.status == 400
    assert bad.value.body["error"] == "Bad Request"
