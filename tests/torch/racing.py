"""Running the two sides of a race test, each in a thread of its own."""

import threading
from collections.abc import Callable

JOIN_TIMEOUT = 60


def run_in_threads(*targets: Callable[[], None]) -> None:
    """Run every target in a thread of its own and wait for all of them.

    Raises:
        AssertionError: If a thread still runs after ``JOIN_TIMEOUT`` seconds (a
            deadlock), naming it.
        BaseException: The first exception a target raised, once all have ended.
    """
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as e:
                errors.append(e)

        return run

    threads = [
        threading.Thread(target=guarded(target), name=target.__name__)
        for target in targets
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"deadlock: {stuck} still running after {JOIN_TIMEOUT} s"
    if errors:
        raise errors[0]
