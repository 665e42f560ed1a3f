"""A command request is answered exactly once, from whichever thread answers first."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from pamiq_core.console import ControlCommands
from pamiq_core.console.web_api import CommandRequest


def test_a_request_names_its_command_and_waits_for_an_answer() -> None:
    request = CommandRequest(ControlCommands.SAVE_STATE)
    assert request.command is ControlCommands.SAVE_STATE
    assert request.outcome is None
    assert "SAVE_STATE" in repr(request)


def test_succeed_answers_ok_with_the_details() -> None:
    request = CommandRequest(ControlCommands.SAVE_STATE)
    request.succeed({"path": "/states/a"})
    assert request.outcome is not None
    assert request.outcome.status_code == 200
    assert request.outcome.body == {"result": "ok", "path": "/states/a"}


def test_fail_answers_the_message_with_the_status() -> None:
    request = CommandRequest(ControlCommands.PAUSE)
    request.fail("Threads did not pause within 60 s", 504)
    assert request.outcome is not None
    assert request.outcome.status_code == 504
    assert request.outcome.body == {"error": "Threads did not pause within 60 s"}


@pytest.mark.parametrize("status_code", [200, 302, 399, 600])
def test_fail_needs_an_error_status(status_code: int) -> None:
    request = CommandRequest(ControlCommands.PAUSE)
    with pytest.raises(ValueError, match=f"400 to 599\\), got {status_code}"):
        request.fail("no", status_code)
    assert request.outcome is None


def test_later_answers_are_ignored() -> None:
    request = CommandRequest(ControlCommands.SAVE_STATE)
    request.fail("disk full")
    request.succeed()
    request.fail("another reason", 503)
    assert request.outcome is not None
    assert request.outcome.body == {"error": "disk full"}


def test_the_listener_hears_the_answer_once_whenever_it_registers() -> None:
    heard: list[int] = []
    early = CommandRequest(ControlCommands.PAUSE)
    early.on_answer(lambda outcome: heard.append(outcome.status_code))
    early.succeed()
    early.succeed()
    late = CommandRequest(ControlCommands.PAUSE)
    late.fail("no")
    late.on_answer(lambda outcome: heard.append(outcome.status_code))
    assert heard == [200, 500]


def test_racing_answers_from_many_threads_settle_on_exactly_one() -> None:
    for _ in range(200):
        request = CommandRequest(ControlCommands.SAVE_STATE)
        heard: list[int] = []
        request.on_answer(
            lambda outcome, heard=heard: heard.append(outcome.status_code)
        )
        start = threading.Barrier(8)

        def answer(
            i: int,
            request: CommandRequest = request,
            start: threading.Barrier = start,
        ) -> None:
            start.wait()
            if i % 2:
                request.succeed({"by": i})
            else:
                request.fail(f"by {i}", 500 + i)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(answer, range(8)))
        assert request.outcome is not None
        assert heard == [request.outcome.status_code]
