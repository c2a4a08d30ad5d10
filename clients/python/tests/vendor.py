"""Vendor calls for the tests, as a user's own client would make them (standard library)."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any, Dict, Optional

RACKCORP_AUTH = "Basic " + base64.b64encode(b"11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret").decode()


def rackcorp(base_url: str, cmd: str, headers: Optional[Dict[str, str]] = None, **fields: Any) -> Any:
    body = json.dumps({"cmd": cmd, **fields}).encode()
    request = urllib.request.Request(f"{base_url}/api/rest/v2.9/json.php", data=body, method="POST",
                                     headers={"content-type": "application/json", "authorization": RACKCORP_AUTH, **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


NEW_CUSTOMER: Dict[str, Any] = {"companyName": "Python Pty Ltd", "locations": [{"suburb": "Sydney"}], "contacts": [{"name": "Ada"}]}
