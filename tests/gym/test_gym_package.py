"""What ``pamiq_core.gym`` exports, and how it fails without gymnasium."""

import subprocess
import sys
import textwrap

import pamiq_core.gym
from pamiq_core.gym import agent, env, types


def test_package_exports_the_agent_and_the_environment() -> None:
    assert pamiq_core.gym.__all__ == ["GymAgent", "GymEnvironment"]
    assert pamiq_core.gym.GymAgent is agent.GymAgent
    assert pamiq_core.gym.GymEnvironment is env.GymEnvironment


def test_types_module_has_the_spec_names() -> None:
    for name in ("EnvReset", "EnvStep", "GymAction", "EnvOutput", "GymObs"):
        assert hasattr(types, name)


def test_importing_without_gymnasium_says_how_to_install_it() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["gymnasium"] = None  # what a missing gymnasium looks like
        try:
            import pamiq_core.gym
        except ModuleNotFoundError as e:
            print(type(e.__cause__).__name__)
            print(e)
        else:
            print("imported")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    cause, message = result.stdout.split("\n", 1)
    assert cause == "ModuleNotFoundError"
    assert "gymnasium module not found" in message
    assert "pip install pamiq-core[gym]" in message


def test_the_types_module_needs_gymnasium_too() -> None:
    # Importing a submodule runs the package's guard first.
    script = (
        "import sys; sys.modules['gymnasium'] = None\n"
        "try:\n"
        "    import pamiq_core.gym.types\n"
        "except ModuleNotFoundError as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "pip install pamiq-core[gym]" in result.stdout
