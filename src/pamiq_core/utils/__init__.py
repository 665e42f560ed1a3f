"""Small helpers shared across the framework."""

from . import reflection, schedulers

__all__ = ["reflection", "schedulers"]
