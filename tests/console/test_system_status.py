import pytest

from pamiq_core.console import SystemStatus, SystemStatusProvider

from .conftest import FakeSystem


class TestSystemStatus:
    def test_values_and_names(self) -> None:
        assert [(s.name, s.value, s.status_name) for s in SystemStatus] == [
            ("ACTIVE", 1, "active"),
            ("PAUSING", 2, "pausing"),
            ("PAUSED", 3, "paused"),
            ("RESUMING", 4, "resuming"),
            ("SHUTTING_DOWN", 5, "shutting down"),
            ("OFFLINE", 6, "offline"),
        ]


class TestSystemStatusProvider:
    def test_a_running_system_is_active(self, system: FakeSystem) -> None:
        assert system.provider.get_current_status() is SystemStatus.ACTIVE

    def test_pausing_until_every_thread_reports_paused(
        self, system: FakeSystem
    ) -> None:
        system.controller.pause()
        assert system.provider.get_current_status() is SystemStatus.PAUSING
        system.inference.pause(system.controller.pause_request())
        assert system.provider.get_current_status() is SystemStatus.PAUSING
        system.training.pause(system.controller.pause_request())
        assert system.provider.get_current_status() is SystemStatus.PAUSED

    def test_an_acknowledgement_of_an_earlier_pause_does_not_count(
        self, system: FakeSystem
    ) -> None:
        system.controller.pause()
        first = system.controller.pause_request()
        system.inference.pause(first)
        system.training.pause(first)
        system.controller.resume()  # the threads have not woken up yet
        system.controller.pause()
        assert system.provider.get_current_status() is SystemStatus.PAUSING
        system.inference.pause(system.controller.pause_request())
        system.training.pause(system.controller.pause_request())
        assert system.provider.get_current_status() is SystemStatus.PAUSED

    def test_resuming_while_any_thread_still_reports_paused(
        self, system: FakeSystem
    ) -> None:
        system.controller.pause()
        system.inference.pause(system.controller.pause_request())
        system.training.pause(system.controller.pause_request())
        system.controller.resume()
        assert system.provider.get_current_status() is SystemStatus.RESUMING
        system.inference.resume()
        assert system.provider.get_current_status() is SystemStatus.RESUMING
        system.training.resume()
        assert system.provider.get_current_status() is SystemStatus.ACTIVE

    @pytest.mark.parametrize("paused", [False, True])
    def test_shutting_down_wins(self, system: FakeSystem, paused: bool) -> None:
        if paused:
            system.controller.pause()
            system.inference.pause(system.controller.pause_request())
            system.training.pause(system.controller.pause_request())
        system.controller.shutdown()
        assert system.provider.get_current_status() is SystemStatus.SHUTTING_DOWN


class TestWithAnyObjectsThatAnswer:
    """The provider needs only the five methods it calls (the console sits below
    the threads), so plain objects stand in for the controller and the monitor."""

    class Controller:
        def __init__(self, shutdown: bool, pause: bool) -> None:
            self.shutdown, self.pause = shutdown, pause

        def is_shutdown(self) -> bool:
            return self.shutdown

        def is_pause(self) -> bool:
            return self.pause

        def pause_request(self) -> int:
            return 1

    class Threads:
        def __init__(self, all_paused: bool, any_paused: bool) -> None:
            self.all_paused, self.any_paused = all_paused, any_paused

        def check_all_threads_paused(self, request: int | None = None) -> bool:
            assert request == 1
            return self.all_paused

        def check_any_threads_paused(self) -> bool:
            return self.any_paused

    @pytest.mark.parametrize(
        ("shutdown", "pause", "all_paused", "any_paused", "expected"),
        [
            (True, True, True, True, SystemStatus.SHUTTING_DOWN),
            (False, True, True, True, SystemStatus.PAUSED),
            (False, True, False, True, SystemStatus.PAUSING),
            (False, False, False, True, SystemStatus.RESUMING),
            (False, False, False, False, SystemStatus.ACTIVE),
        ],
    )
    def test_derives_the_status(
        self,
        shutdown: bool,
        pause: bool,
        all_paused: bool,
        any_paused: bool,
        expected: SystemStatus,
    ) -> None:
        provider = SystemStatusProvider(
            self.Controller(shutdown, pause), self.Threads(all_paused, any_paused)
        )
        assert provider.get_current_status() is expected
