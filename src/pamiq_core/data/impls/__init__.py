"""Ready-made data buffers."""

from .random_replacement_buffer import (
    DictRandomReplacementBuffer,
    RandomReplacementBuffer,
)
from .ring_buffer import DictRingBuffer, RingBuffer
from .sequential_buffer import DictSequentialBuffer, SequentialBuffer

__all__ = [
    "SequentialBuffer",
    "RandomReplacementBuffer",
    "DictSequentialBuffer",
    "DictRandomReplacementBuffer",
    "RingBuffer",
    "DictRingBuffer",
]
