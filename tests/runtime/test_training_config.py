"""Configuration of the training modes, checked before anything starts; Ray-free."""

import time as std_time

import pytest

from pamiq_core import LaunchConfig, time
from pamiq_core.runtime import RayConfig, RayGroup
from pamiq_core.runtime.ray_actor import boot_id, local_clock


class TestRayConfig:
    def test_defaults_stop_on_failure_and_run_each_group_once(self) -> None:
        config = RayConfig()
        assert config.on_failure == "stop"
        assert config.group(3) == RayGroup()
        assert config.group(3).replicas == 1

    def test_groups_are_taken_by_index(self) -> None:
        box = RayGroup({"resources": {"box": 1}}, replicas=2)
        assert RayConfig(groups=[RayGroup(), box]).group(1) is box

    @pytest.mark.parametrize(
        ("fields", "named"),
        [
            ({"on_failure": "retry"}, "on_failure"),
            ({"groups": RayGroup()}, "groups"),
            ({"groups": [{"num_gpus": 1}]}, r"groups\[0\]"),
            ({"max_batches_in_flight": 0}, "max_batches_in_flight"),
            ({"max_restarts": -1}, "max_restarts"),
        ],
    )
    def test_a_wrong_value_is_named(
        self, fields: dict[str, object], named: str
    ) -> None:
        with pytest.raises(ValueError, match=named):
            RayConfig(**fields)  # type: ignore[arg-type]

    @pytest.mark.parametrize("replicas", [0, 1.5, "2"])
    def test_replicas_must_be_a_positive_int(self, replicas: object) -> None:
        with pytest.raises(ValueError, match="replicas"):
            RayGroup(replicas=replicas)  # type: ignore[arg-type]

    def test_options_must_be_a_mapping_of_names(self) -> None:
        with pytest.raises(ValueError, match="options"):
            RayGroup(["num_gpus"])  # type: ignore[arg-type]


class TestLaunchConfig:
    def test_ray_settings_need_training_ray(self) -> None:
        with pytest.raises(ValueError, match="needs training='ray'"):
            LaunchConfig(ray=RayConfig())

    def test_training_groups_work_with_ray(self) -> None:
        config = LaunchConfig(training="ray", training_groups=[["a"], ["b"]])
        assert config.training == "ray"

    def test_training_groups_are_refused_in_thread_mode(self) -> None:
        with pytest.raises(ValueError, match="'process' or 'ray'"):
            LaunchConfig(training_groups=[["a"]])

    def test_ray_must_be_a_ray_config(self) -> None:
        with pytest.raises(ValueError, match="RayConfig"):
            LaunchConfig(training="ray", ray={"address": "auto"})  # type: ignore[arg-type]


class TestClockAcrossMachines:
    def test_on_the_same_boot_the_clock_is_taken_as_it_is(self) -> None:
        mirror = time.get_global_time_controller().mirror()
        assert local_clock(mirror, boot_id()) is mirror

    def test_on_another_machine_the_real_clocks_are_reanchored_by_wall_time(
        self,
    ) -> None:
        anchors = time.get_global_time_controller().mirror().anchors
        # Another machine took these anchors 2 s ago, on monotonic clocks that
        # started elsewhere; the wall clocks agree.
        elsewhere = anchors._replace(
            raw_time=std_time.time() - 2.0,
            raw_monotonic=anchors.raw_monotonic + 1e6,
            raw_perf_counter=anchors.raw_perf_counter - 1e6,
            is_paused=False,
        )
        here = local_clock(time.ClockMirror(elsewhere), "another-machine").anchors
        assert here.raw_monotonic == pytest.approx(std_time.monotonic() - 2.0, abs=0.05)
        assert here.raw_perf_counter == pytest.approx(
            std_time.perf_counter() - 2.0, abs=0.05
        )
        assert (here.raw_time, here.scaled_monotonic) == (
            elsewhere.raw_time,
            elsewhere.scaled_monotonic,
        )
