"""The data path from agents to trainers: collectors, users, buffers."""

from . import impls
from .buffer import DataBuffer
from .container import DataCollectorsDict, DataUsersDict
from .interface import DataCollector, DataUser

__all__ = [
    "impls",
    "DataBuffer",
    "DataCollector",
    "DataUser",
    "DataCollectorsDict",
    "DataUsersDict",
]
