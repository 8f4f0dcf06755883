"""Moved to :mod:`openai_agents_session.store.keys`."""

from .store.keys import *  # noqa: F403
from .store.keys import OPERATION_LOG, hash_slot, operation_log_key, session_key  # noqa: F401
