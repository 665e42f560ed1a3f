"""What every benchmark prints first: the machine its numbers come from."""

import os
import platform


def describe_machine(*extras: str) -> str:
    """CPU model, logical cores, load average and Python version, then ``extras``."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    parts = [
        f"{model}, {os.cpu_count()} logical CPUs{load}",
        f"Python {platform.python_version()}",
        *extras,
    ]
    return "; ".join(parts)
