"""Starts the emulator (the repository's built CLI) once for these tests, unless
VENDOR_API_EMULATOR_URL names one that is already running."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    given = os.environ.get("VENDOR_API_EMULATOR_URL")
    if given:
        yield given
        return
    cli = REPO / "dist" / "server" / "cli.js"
    if not cli.exists():
        pytest.fail(f"{cli} is missing: run `npm run build` in {REPO} first")
    proc = subprocess.Popen(["node", str(cli), "--port", "0", "--log-level", "silent"],
                            stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            pytest.fail(f"the emulator did not start: {line!r}")
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session", autouse=True)
def _point_plugin_at_emulator(emulator_url: str) -> Iterator[None]:
    # The plugin's own `emulator` fixture reads this, as a user's CI job would set it.
    previous = os.environ.get("VENDOR_API_EMULATOR_URL")
    os.environ["VENDOR_API_EMULATOR_URL"] = emulator_url
    yield
    if previous is None:
        del os.environ["VENDOR_API_EMULATOR_URL"]
    else:
        os.environ["VENDOR_API_EMULATOR_URL"] = previous
