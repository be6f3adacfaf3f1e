"""PresenceGrid for Synapse: add ``presencegrid_synapse.PresenceGridModule`` to Synapse's
``modules:`` list (see docs/synapse.md)."""

from ._compat import PRESENCE_ALL_USERS, FallbackConfigError, GridTimeout
from .module import STATE_FIELDS, PresenceGridConfig, PresenceGridModule

__all__ = [
    "PRESENCE_ALL_USERS",
    "STATE_FIELDS",
    "FallbackConfigError",
    "GridTimeout",
    "PresenceGridConfig",
    "PresenceGridModule",
]
