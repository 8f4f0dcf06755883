"""``RedisSession``, the store (see :mod:`openai_agents_session.store`)."""

from .store.session import RedisSession

__all__ = ["RedisSession"]
