"""Moved to :mod:`openai_agents_session.store.codec`."""

from .store.codec import CorruptItem as CorruptItem
from .store.codec import decode_item as decode_item
from .store.codec import decode_items as decode_items
from .store.codec import encode_items as encode_items
