"""The emulator's control plane (`/_emulator/...`) as methods, over the standard library's HTTP.

`ControlClient("http://127.0.0.1:8080")` acts on the default state; `client.session("job-42")` gives
the same methods acting on one isolated session, plus the session's `base_url`: the emulator URL
with the `/_sessions/<id>` prefix, which a vendor client takes as its base URL unchanged.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Mapping, Optional, Union

JSON = Any
Query = Mapping[str, Union[str, int, float, None]]

# Answers are read up to this size; the largest control answer (a journal page of 1,000 requests
# with 64 KiB bodies each) stays well below it.
MAX_ANSWER_BYTES = 512 * 1024 * 1024


class ControlError(Exception):
    """A control request answered 4xx or 5xx: `status`, and the parsed `body` when it was JSON."""

    def __init__(self, status: int, body: JSON, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ControlClient:
    """One emulator's control plane; `session_id` set means every call acts on that session."""

    def __init__(self, url: str, *, token: Optional[str] = None, session_id: Optional[str] = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.session_id = session_id
        self.timeout = timeout

    def session(self, session_id: str) -> EmulatorSession:
        """The same methods acting on session `session_id` (the emulator makes it on first use)."""
        return EmulatorSession(self.url, session_id, token=self.token, timeout=self.timeout)

    # -- transport ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: JSON = None, query: Optional[Query] = None) -> JSON:
        url = f"{self.url}/_emulator{path}"
        if query:
            params = {k: str(v) for k, v in query.items() if v is not None}
            if params:
                url += "?" + urllib.parse.urlencode(params)
        headers = {"accept": "application/json"}
        if self.session_id is not None:
            headers["x-emulator-session"] = self.session_id
        if self.token is not None:
            headers["authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, text = response.status, response.read(MAX_ANSWER_BYTES).decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read(MAX_ANSWER_BYTES).decode()
        try:
            parsed: JSON = json.loads(text) if text else None
        except ValueError:
            parsed = text
        if status >= 400:
            message = parsed.get("message") if isinstance(parsed, dict) else None
            raise ControlError(status, parsed, f"{method} /_emulator{path}: {status} {message or text}")
        return parsed

    # -- the routes -----------------------------------------------------------------------------

    def health(self) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("GET", "/health")
        return result

    def sessions(self) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("GET", "/sessions")
        return result

    def delete_session(self, session_id: str) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("DELETE", f"/sessions/{urllib.parse.quote(session_id, safe='')}")
        return result

    def reset(self, vendor: Optional[str] = None) -> Dict[str, JSON]:
        """Back to the fixtures: everything, or one vendor's data (keeping clock, journal and faults)."""
        result: Dict[str, JSON] = self._call("POST", "/reset", query={"vendor": vendor})
        return result

    def snapshot(self, name: str) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("POST", f"/snapshots/{urllib.parse.quote(name, safe='')}")
        return result

    def restore(self, name: str) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("POST", f"/snapshots/{urllib.parse.quote(name, safe='')}/restore")
        return result

    def snapshots(self) -> List[Dict[str, JSON]]:
        result: List[Dict[str, JSON]] = self._call("GET", "/snapshots")["snapshots"]
        return result

    def delete_snapshot(self, name: str) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("DELETE", f"/snapshots/{urllib.parse.quote(name, safe='')}")
        return result

    def requests(self, *, vendor: Optional[str] = None, operation: Optional[str] = None, method: Optional[str] = None,
                 status: Union[int, str, None] = None, since: Union[str, int, None] = None, limit: Optional[int] = None) -> List[Dict[str, JSON]]:
        """The journal, newest first. Header names in each entry are lower-cased, as Node reads them."""
        query = {"vendor": vendor, "operation": operation, "method": method, "status": status, "since": since, "limit": limit}
        result: List[Dict[str, JSON]] = self._call("GET", "/requests", query=query)["requests"]
        return result

    def count_requests(self, *, vendor: Optional[str] = None, operation: Optional[str] = None, method: Optional[str] = None,
                       status: Union[int, str, None] = None, since: Union[str, int, None] = None) -> int:
        query = {"vendor": vendor, "operation": operation, "method": method, "status": status, "since": since}
        result: int = self._call("GET", "/requests/count", query=query)["count"]
        return result

    def clear_requests(self) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("DELETE", "/requests")
        return result

    def add_fault(self, rule: Optional[Mapping[str, JSON]] = None, **fields: JSON) -> Dict[str, JSON]:
        """Add a fault rule (the fields of POST /_emulator/faults, as a dict or keywords); answers it with its `id`."""
        result: Dict[str, JSON] = self._call("POST", "/faults", body={**(rule or {}), **fields})
        return result

    def faults(self) -> List[Dict[str, JSON]]:
        result: List[Dict[str, JSON]] = self._call("GET", "/faults")["faults"]
        return result

    def remove_fault(self, fault_id: int) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("DELETE", f"/faults/{int(fault_id)}")
        return result

    def clear_faults(self) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("DELETE", "/faults")
        return result

    def clock(self) -> Dict[str, JSON]:
        result: Dict[str, JSON] = self._call("GET", "/clock")
        return result

    def set_clock(self, *, now: Union[str, int, None] = None, advance: Optional[float] = None, real: bool = False) -> Dict[str, JSON]:
        """Exactly one of: freeze at `now` (ISO text or epoch seconds), `advance` seconds, or `real=True`."""
        given = [k for k, v in (("now", now), ("advance", advance), ("real", real or None)) if v is not None]
        if len(given) != 1:
            raise ValueError("set_clock takes exactly one of now=, advance=, real=True")
        body: Dict[str, JSON] = {"now": now} if now is not None else {"advance": advance} if advance is not None else {"real": True}
        result: Dict[str, JSON] = self._call("PUT", "/clock", body=body)
        return result

    def outbox(self, vendor: Optional[str] = None) -> List[Dict[str, JSON]]:
        result: List[Dict[str, JSON]] = self._call("GET", "/outbox", query={"vendor": vendor})["messages"]
        return result


class EmulatorSession(ControlClient):
    """A ControlClient bound to one session, with the `base_url` that routes vendor calls into it."""

    def __init__(self, url: str, session_id: str, *, token: Optional[str] = None, timeout: float = 30.0) -> None:
        super().__init__(url, token=token, session_id=session_id, timeout=timeout)
        self.id = session_id
        self.base_url = f"{self.url}/_sessions/{urllib.parse.quote(session_id, safe='')}"

    def delete(self) -> bool:
        """Drop this session; False when it was never made (nothing used it) or is already gone."""
        try:
            # Unscoped: a request carrying this session's header would be a use of it.
            ControlClient(self.url, token=self.token, timeout=self.timeout).delete_session(self.id)
        except ControlError as error:
            if error.status == 404:
                return False
            raise
        return True
