"""Opt-in durability: ``Durability`` (see :mod:`openai_agents_session.store.durability`)."""

from .store.durability import Durability

__all__ = ["Durability"]
