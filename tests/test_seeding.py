"""pamiq_core.seeding: seeds, per-component generators and their saved states."""

import pickle
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pamiq_core import Agent, Environment, Interaction, LaunchConfig, launch, time
from pamiq_core.data.impls import (
    DictRandomReplacementBuffer,
    DictRingBuffer,
    RandomReplacementBuffer,
    RingBuffer,
)
from pamiq_core.interaction.modular_env import Actuator, ModularEnvironment, Sensor
from pamiq_core.interaction.wrappers import EnvironmentWrapper, LambdaWrapper
from pamiq_core.seeding import (
    MAX_SEED,
    RandomMixin,
    SystemRandomness,
    derive_seed,
    global_random_state,
    random_components,
    seed_everything,
    set_global_random_state,
)


class Dice(RandomMixin):
    """A component with no __init__ of its own, as a user's might be."""

    def roll(self) -> tuple[float, float]:
        return self.rng.random(), float(self.np_rng.random())


def draws(seed: int) -> tuple[float, float]:
    seed_everything(seed)
    return random.random(), float(np.random.random())


class TestSeeds:
    def test_seed_everything_makes_python_and_numpy_repeat(self) -> None:
        assert draws(3) == draws(3)
        assert draws(3) != draws(4)

    @pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 1.0, "7", True, None])
    def test_a_seed_outside_what_numpy_accepts_is_refused_with_its_value(
        self, seed: Any
    ) -> None:
        with pytest.raises(ValueError, match="seed_everything") as info:
            seed_everything(seed)
        assert repr(seed) in str(info.value)

    def test_launch_config_checks_its_seed(self) -> None:
        with pytest.raises(ValueError, match=r"LaunchConfig\.seed.*-3"):
            LaunchConfig(seed=-3)
        assert LaunchConfig(seed=MAX_SEED).seed == MAX_SEED

    def test_derived_seeds_are_64_bit_and_differ_by_name_and_seed(self) -> None:
        seeds = {derive_seed(s, n) for s in (0, 1) for n in ("agent", "environment")}
        assert len(seeds) == 4
        assert all(0 <= s < 2**64 for s in seeds)
        assert derive_seed(0, "agent") == derive_seed(0, "agent")

    def test_derived_seeds_are_the_same_in_another_process(self) -> None:
        # str hashing is randomised per process; derived seeds must not be.
        code = "from pamiq_core.seeding import derive_seed; print(derive_seed(5, 'buffers/x'))"
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": "random"},
        )
        assert int(result.stdout) == derive_seed(5, "buffers/x")


class TestRandomMixin:
    def test_a_component_gets_its_generators_on_first_use(self) -> None:
        dice = Dice()
        assert dice.rng is dice.rng
        assert dice.np_rng is dice.np_rng
        assert dice.roll() != Dice().roll()  # fresh entropy each

    def test_seed_random_makes_both_generators_repeat(self) -> None:
        first, second = Dice(), Dice()
        first.seed_random(11)
        second.seed_random(11)
        assert [first.roll() for _ in range(5)] == [second.roll() for _ in range(5)]

    def test_a_saved_random_state_continues_the_streams(self) -> None:
        dice = Dice()
        dice.seed_random(2)
        dice.roll()
        state = pickle.loads(pickle.dumps(dice.random_state()))
        expected = [dice.roll() for _ in range(3)]
        other = Dice()
        other.load_random_state(state)
        assert [other.roll() for _ in range(3)] == expected

    def test_gauss_keeps_its_cached_second_value_across_a_save(self) -> None:
        dice = Dice()
        dice.seed_random(8)
        dice.rng.gauss(0.0, 1.0)  # leaves the pair's second value cached
        state = dice.random_state()
        expected = dice.rng.gauss(0.0, 1.0)
        other = Dice()
        other.load_random_state(state)
        assert other.rng.gauss(0.0, 1.0) == expected

    def test_a_numpy_generator_of_another_kind_is_restored_as_such(self) -> None:
        dice = Dice()
        dice.np_rng = np.random.Generator(np.random.MT19937(4))
        state = dice.random_state()
        expected = dice.np_rng.random(3)
        other = Dice()
        other.load_random_state(state)
        assert isinstance(other.np_rng.bit_generator, np.random.MT19937)
        assert np.array_equal(other.np_rng.random(3), expected)

    def test_unused_generators_save_as_none_and_load_as_no_change(self) -> None:
        dice = Dice()
        assert dice.random_state() == {"python": None, "numpy": None}
        dice.seed_random(1)
        expected = Dice()
        expected.seed_random(1)
        dice.load_random_state({"python": None, "numpy": None})
        assert dice.roll() == expected.roll()

    def test_a_system_random_generator_is_used_but_has_no_state_to_save(self) -> None:
        dice = Dice()
        dice.rng = random.SystemRandom()
        dice.roll()
        assert dice.random_state()["python"] is None


class Walker(Agent[int, int], RandomMixin):
    def step(self, observation: int) -> int:
        return observation


class Ground(Environment[int, int], RandomMixin):
    def observe(self) -> int:
        return 0

    def affect(self, action: int) -> None:
        pass


class Eye(Sensor[int], RandomMixin):
    def read(self) -> int:
        return 0


class Hand(Actuator[int], RandomMixin):
    def operate(self, action: int) -> None:
        pass


def _same(value: int) -> int:
    return value


class TestNames:
    def test_components_are_named_by_where_they_sit_in_the_system(self) -> None:
        child = Walker()
        parent = Walker({"child": child})
        buffer = RandomReplacementBuffer[int](4)
        eye, hand = Eye(), Hand()
        modular = ModularEnvironment(eye, hand)
        found = random_components(
            [
                ("buffers/replay", buffer),
                ("buffers/plain", object()),  # no generators: left out
                ("environment", modular),
                ("agent", parent),
            ]
        )
        assert found == [
            ("buffers/replay", buffer),
            ("environment/sensor", eye),
            ("environment/actuator", hand),
            ("agent", parent),
            ("agent/child", child),
        ]

    def test_a_wrapped_environment_shares_the_name_with_a_numbered_suffix(
        self,
    ) -> None:
        inner = Ground()
        outer = EnvironmentWrapper(inner, LambdaWrapper(_same), LambdaWrapper(_same))
        outer_ground = Ground()
        found = random_components(
            [("environment", inner), ("environment", outer_ground)]
        )
        assert [name for name, _ in found] == ["environment", "environment#2"]
        assert random_components([("environment", outer)]) == [("environment", inner)]

    def test_an_object_reached_twice_keeps_its_first_name(self) -> None:
        ground = Ground()
        found = random_components([("a", ground), ("b", ground)])
        assert found == [("a", ground)]


class TestSystemRandomness:
    def test_each_component_is_seeded_from_the_seed_and_its_name(self) -> None:
        dice, other = Dice(), Dice()
        SystemRandomness(9, [("agent", dice), ("environment", other)])
        assert dice.rng.random() == random.Random(derive_seed(9, "agent")).random()
        assert (
            other.rng.random() == random.Random(derive_seed(9, "environment")).random()
        )

    def test_adding_a_component_leaves_the_others_streams_unchanged(self) -> None:
        alone, accompanied = Dice(), Dice()
        SystemRandomness(4, [("agent", alone)])
        SystemRandomness(4, [("buffers/new", Dice()), ("agent", accompanied)])
        assert alone.roll() == accompanied.roll()

    def test_without_a_seed_nothing_is_seeded(self) -> None:
        random.seed(123)
        expected = random.random()
        random.seed(123)
        dice = Dice()
        SystemRandomness(None, [("agent", dice)])
        assert random.random() == expected
        assert dice.random_state() == {"python": None, "numpy": None}

    def test_saving_and_loading_restores_global_and_component_generators(
        self, tmp_path: Path
    ) -> None:
        dice = Dice()
        part = SystemRandomness(1, [("agent", dice)])
        dice.roll()
        part.save_state(tmp_path / "random")
        expected = (dice.roll(), random.random(), float(np.random.random()))
        dice.roll()
        random.random()
        part.load_state(tmp_path / "random")
        assert (dice.roll(), random.random(), float(np.random.random())) == expected
        assert sorted(p.name for p in (tmp_path / "random").iterdir()) == [
            "generators.pkl"
        ]

    def test_a_component_the_snapshot_does_not_name_keeps_its_generators(
        self, tmp_path: Path
    ) -> None:
        SystemRandomness(1, [("agent", Dice())]).save_state(tmp_path / "random")
        newcomer = Dice()
        part = SystemRandomness(1, [("buffers/new", newcomer)])
        expected = Dice()
        expected.seed_random(derive_seed(1, "buffers/new"))
        part.load_state(tmp_path / "random")
        assert newcomer.roll() == expected.roll()

    def test_handed_over_components_are_not_saved(self) -> None:
        dice, moved = Dice(), Dice()
        part = SystemRandomness(1, [("agent", dice), ("trainers/t", moved)])
        part.hand_over([moved])
        assert list(part.state_dict()["components"]) == ["agent"]

    def test_global_state_round_trips_through_a_pickle(self) -> None:
        seed_everything(5)
        state = pickle.loads(pickle.dumps(global_random_state()))
        expected = (random.random(), float(np.random.random()))
        random.seed(99)
        np.random.seed(99)
        set_global_random_state(state)
        assert (random.random(), float(np.random.random())) == expected


class TestBuffers:
    def test_an_unseeded_replacement_buffer_draws_from_the_patchable_globals(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        buffer = RandomReplacementBuffer[int](2)
        monkeypatch.setattr(random, "random", lambda: 0.5)
        monkeypatch.setattr(random, "randint", lambda a, b: 1)
        for item in (1, 2, 3):
            buffer.add(item)
        assert buffer.get_data() == [1, 3]

    def test_a_seeded_replacement_buffer_draws_from_its_own_generator(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def forbidden(*args: object) -> float:
            raise AssertionError("a seeded buffer used the global generator")

        monkeypatch.setattr(random, "random", forbidden)
        monkeypatch.setattr(random, "randint", forbidden)
        buffers = [RandomReplacementBuffer[int](3), RandomReplacementBuffer[int](3)]
        for buffer in buffers:
            buffer.seed_random(6)
            for item in range(50):
                buffer.add(item)
        assert buffers[0].get_data() == buffers[1].get_data()
        assert buffers[0].get_data() != [0, 1, 2]

    def test_a_dict_replacement_buffer_uses_its_inner_buffers_generator(
        self,
    ) -> None:
        buffer = DictRandomReplacementBuffer[int](["a"], 3)
        plain = RandomReplacementBuffer[dict[str, int]](3)
        buffer.seed_random(6)
        plain.seed_random(6)
        for item in range(50):
            buffer.add({"a": item})
            plain.add({"a": item})
        assert buffer.get_data()["a"] == [d["a"] for d in plain.get_data()]
        assert buffer.random_state() == plain.random_state()
        assert buffer.rng is buffer._replacing.rng  # pyright: ignore[reportPrivateUsage]

    def test_reseeding_a_ring_buffer_repeats_its_samples(self) -> None:
        buffers = [RingBuffer(100, (), np.int64, seed=1) for _ in range(2)]
        for buffer in buffers:
            for item in range(100):
                buffer.add(item)
        buffers[1].seed_random(3)
        buffers[0].seed_random(3)
        assert np.array_equal(buffers[0].sample(20), buffers[1].sample(20))

    def test_a_loaded_ring_buffer_samples_what_the_saved_one_would(
        self, tmp_path: Path
    ) -> None:
        fields = {"x": ((), np.int64)}
        buffer = DictRingBuffer(fields, max_size=7, seed=2)
        for item in range(12):  # wrapped around: rows are not in time order
            buffer.add({"x": item})
        buffer.save_state(tmp_path / "ring")
        state = buffer.random_state()
        loaded = DictRingBuffer(fields, max_size=7)
        loaded.load_state(tmp_path / "ring")
        loaded.load_random_state(state)
        for _ in range(5):
            assert np.array_equal(loaded.sample(4)["x"], buffer.sample(4)["x"])
            assert np.array_equal(
                loaded.sample(4, replace=False)["x"],
                buffer.sample(4, replace=False)["x"],
            )


class Rolling(Agent[int, float], RandomMixin):
    def __init__(self) -> None:
        super().__init__()
        self.first: tuple[float, float] | None = None

    def on_system_start(self) -> None:
        self.first = (self.rng.random(), random.random())

    def step(self, observation: int) -> float:
        return 0.0


class Still(Environment[int, float]):
    def observe(self) -> int:
        return 0

    def affect(self, action: float) -> None:
        pass


def test_launch_seeds_globals_and_components_in_thread_mode(tmp_path: Path) -> None:
    agent = Rolling()
    launch(
        Interaction(agent, Still()),
        {},
        {},
        {},
        LaunchConfig(
            states_dir=tmp_path, seed=21, max_uptime=0.05, web_api_address=None
        ),
    )
    time.resume()
    assert agent.first == (
        random.Random(derive_seed(21, "agent")).random(),
        random.Random(21).random(),
    )
