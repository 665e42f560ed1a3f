"""Running a test system until its training side has done enough, then stopping it.

A training process takes a second or more to start on a loaded machine, so tests
wait for what they need (training runs, seen through the web API's metrics)
instead of running for a fixed time.
"""

import socket
import threading
from collections.abc import Callable
from typing import Any

import httpx

from eventually import eventually


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port: int) -> Any:
    try:
        response = httpx.get(f"http://localhost:{port}/api/metrics", timeout=5)
    except httpx.HTTPError:
        return None
    return response.json() if response.is_success else None


def runs(port: int, trainer: str) -> int:
    found = metrics(port)
    if found is None:
        return 0
    return int(found["trainers"].get(trainer, {}).get("runs") or 0)


def shutdown(port: int) -> bool:
    try:
        url = f"http://localhost:{port}/api/shutdown"
        return httpx.post(url, timeout=10).is_success
    except httpx.HTTPError:
        return False


def run_until(
    launch: Callable[..., None],
    done: Callable[[int], bool],
    what: str,
    **config: Any,
) -> None:
    """Launch with a web API on a free port; shut down once ``done(port)`` holds.

    Raises:
        BaseException: What ``launch`` raised.
    """
    port = free_port()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            launch(web_api_address=("localhost", port), **config)
        except BaseException as error:
            errors.append(error)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        eventually(lambda: done(port) or not runner.is_alive(), timeout=120, what=what)
    finally:
        eventually(lambda: not runner.is_alive() or shutdown(port), what="a shutdown")
        runner.join(timeout=120)
    if errors:
        raise errors[0]


def run_until_trained(launch: Callable[..., None], count: int, **config: Any) -> None:
    """Run until the trainer ``consumer`` trained ``count`` times."""
    run_until(
        launch,
        lambda port: runs(port, "consumer") >= count,
        f"{count} training runs",
        **config,
    )
