"""A flood of half-sent, unauthenticated requests cannot exhaust the system.

Runs the short form of ``benchmarks/flood.py`` (300 connections opened at once from
another process, a 1 s header timeout), which floods a guarded server and, as the
baseline that shows the flood is strong enough to matter, an unguarded one, each in
a process whose file descriptor limit is far below the flood's size.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pamiq_core.console import WebApiServer
from pamiq_core.console._binding import LISTEN_BACKLOG

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "flood.py"
IN_FLIGHT = 3 * LISTEN_BACKLOG
"""Connections accepted but not yet seen by the guard: asyncio accepts up to the
backlog per loop iteration, and the guard sees them an iteration or two later."""


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return {result["server"]: result for result in json.loads(completed.stdout)}


def test_the_flood_exhausts_an_unguarded_server(
    results: dict[str, dict[str, Any]],
) -> None:
    unguarded = results["unguarded"]
    # Its accept() failed for want of a file descriptor: the limit itself was hit.
    # (The sampled peak of open descriptors is no proof either way: a sample can
    # miss the moment of the limit by dozens on a loaded machine.)
    assert unguarded["accept_out_of_fds"] > 0, unguarded
    assert unguarded["seconds_until_none_held"] is None, unguarded


def test_the_guarded_server_holds_a_bounded_number_of_connections(
    results: dict[str, dict[str, Any]],
) -> None:
    guarded = results["guarded"]
    cap = WebApiServer.DEFAULT_MAX_CONNECTIONS
    assert guarded["connected"] == guarded["attempted"] == 300, guarded
    assert guarded["most_open"] == cap, guarded
    assert guarded["fds_most"] - guarded["fds_before"] <= cap + IN_FLIGHT, guarded
    assert guarded["accept_out_of_fds"] == 0, guarded
    assert guarded["files_failed_during"] == 0, guarded
    assert guarded["can_open_a_file_after"], guarded


def test_the_guarded_server_closes_them_by_the_header_timeout(
    results: dict[str, dict[str, Any]],
) -> None:
    guarded = results["guarded"]
    assert guarded["header_timeout"] == 1.0
    assert guarded["longest_idle"] < 1.0 + 1.5, guarded  # the loop's lag when loaded
    assert guarded["timed_out"] > 0, guarded
    assert guarded["evicted"] + guarded["timed_out"] >= 300, guarded
    assert guarded["seconds_until_none_held"] is not None, guarded


def test_the_guarded_server_answers_during_and_after_the_flood(
    results: dict[str, dict[str, Any]],
) -> None:
    guarded = results["guarded"]
    assert guarded["answered_while_full"] == "ok", guarded
    assert guarded["requests_during"].get("ok", 0) > 0, guarded
    assert guarded["answers_after"] == "ok", guarded
