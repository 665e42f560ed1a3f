"""Threads of a running system and the signals between them."""

from .thread_control import ThreadEventMixin

__all__ = ["ThreadEventMixin"]
