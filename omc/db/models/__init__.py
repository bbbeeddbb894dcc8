"""Table models by schema. Importing this package registers every table."""

from omc.db.models.app import User, UserRole
from omc.db.models.collectors import (
    ChainTvl,
    CollectorLock,
    CollectorRun,
    Filing,
    NewsPost,
    Ohlcv,
    PriceSnapshot,
    ProtocolTvl,
    SocialPost,
)
from omc.db.models.lab import LabSession

__all__ = [
    "ChainTvl",
    "CollectorLock",
    "CollectorRun",
    "Filing",
    "LabSession",
    "NewsPost",
    "Ohlcv",
    "PriceSnapshot",
    "ProtocolTvl",
    "SocialPost",
    "User",
    "UserRole",
]
