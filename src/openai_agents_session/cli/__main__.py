"""``python -m openai_agents_session.cli``: the same as the ``openai-agents-session`` command."""

from . import main

raise SystemExit(main())
