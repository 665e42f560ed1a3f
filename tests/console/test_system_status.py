import pytest

from pamiq_core.console import SystemStatus

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
        system.inference.pause()
        assert system.provider.get_current_status() is SystemStatus.PAUSING
        system.training.pause()
        assert system.provider.get_current_status() is SystemStatus.PAUSED

    def test_resuming_while_any_thread_still_reports_paused(
        self, system: FakeSystem
    ) -> None:
        system.controller.pause()
        system.inference.pause()
        system.training.pause()
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
            system.inference.pause()
            system.training.pause()
        system.controller.shutdown()
        assert system.provider.get_current_status() is SystemStatus.SHUTTING_DOWN
