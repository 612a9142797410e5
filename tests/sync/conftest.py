"""Sync's tests run against a real server process, through the client, as `versicolor sync` does."""

from __future__ import annotations

from tests.client.conftest import account, api_server, connect

__all__ = ["account", "api_server", "connect"]
