"""Fixtures of the channel tests that start a real platform server."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def synapse():
    """One Synapse homeserver for the session (tests/synapse_server.py); skips saying why
    when none can be started, fails instead under CI."""
    from tests.synapse_server import Homeserver, Unavailable

    try:
        server = Homeserver.start()
    except Unavailable as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the Matrix tests, but Synapse could not be started: {error}")
        pytest.skip(f"Matrix tests skipped: {error}")
    yield server
    server.destroy()
