"""Panel descriptions: what each panel shows and what to do when it looks bad.

Grafana shows these in the panel's (i) tooltip. Runbook sections are in
``deploy/RUNBOOK.md`` of the openai-agents-session repository.
"""

from __future__ import annotations

__all__ = ["DESCRIPTIONS"]

DESCRIPTIONS: dict[str, str] = {
    "Operations per second": (
        "All session storage calls per second for the selected jobs, instances and "
        "operations. A drop to zero while the service is up means the agents stopped "
        "reading or writing history: check the app's own traffic first, then the "
        "'no operations' runbook section."
    ),
    "Error ratio": (
        "Share of storage calls that raised, over 5 minutes. Red above 5% (the default "
        "alert threshold). When red, open 'Errors per second by type' to see whether it "
        "is timeouts, connections or Redis replies, and follow the runbook's error ratio "
        "section."
    ),
    "Latency p99": (
        "99th percentile duration of storage calls over 5 minutes. Red above 0.25 s, the "
        "default SLO threshold. When red, check the Redis server's latency and CPU, the "
        "network, and 'Session length' (long sessions make reads slow)."
    ),
    "Session length p99": (
        "99th percentile number of items in a session after each call. Red above 1000, "
        "the default alert bound. When red, set max_items on RedisSession or summarise "
        "old turns; see the runbook's session length section."
    ),
    "Operations per second by operation and outcome": (
        "Calls per second of get_items, add_items, pop_item and clear_session, split by "
        "outcome ok/error. A rising error series needs the error breakdown next to it; a "
        "get_items rate far above add_items is normal (every turn reads the history)."
    ),
    "Error ratio by operation": (
        "Failed calls / all calls per operation over 5 minutes. Above 5% for 10 minutes "
        "the OpenAIAgentsSessionErrorRatioHigh alert fires. Look at the error types, then "
        "at the Redis server (reachable? out of memory? failing over?)."
    ),
    "Errors per second by type": (
        "Failures by operation and error_type: timeout, connection (Redis unreachable or "
        "failing over), redis (an error reply, e.g. a key of the wrong type or OOM), "
        "serialization (an item that is not JSON-serialisable: a bug in the app), "
        "cancelled (the caller gave up) and other. Each type has its own fix in the "
        "runbook's error ratio section."
    ),
    "Latency p50 / p95 / p99 by operation": (
        "Quantiles of storage call duration per operation, from the recorded 5-minute "
        "bucket rates. If only p99 rises, look for big sessions (get_items without a "
        "limit) or a slow Redis command; if all rise, the Redis server or the network is "
        "slow. Budget: 99% of calls within 0.25 s by default."
    ),
    "Latency p99 with trace exemplars": (
        "p99 duration per operation from the raw histogram, with exemplars: each dot is a "
        "real call with its trace_id. Click a dot and 'Open trace in Tempo' (the Tempo "
        "variable picks the data source) to see the agent run that made the slow call. "
        "No dots? Exemplars need Prometheus' exemplar-storage feature and a tracer "
        "provider in the app."
    ),
    "Share of operations slower than the SLO threshold": (
        "The latency SLI per job: the share of calls slower than the SLO threshold over "
        "5 m, 1 h and 6 h. The error budget is 1 - objective (1% by default). Above 14.4% "
        "over 1 h (or 6% over 6 h) the fast burn alert pages; see the runbook's latency "
        "budget sections."
    ),
    "Slow operations per second": (
        "Calls slower than the instrumentation's slow_threshold_seconds (0.25 s by "
        "default); each is also logged as a warning with its trace id. Use those logs or "
        "the exemplars to find which sessions and operations are slow."
    ),
    "Items written / read / popped per second": (
        "Items moved per second: written by add_items, read by get_items, popped by "
        "pop_item. Reads far above writes mean agents re-read long histories each turn: "
        "pass a limit or cap sessions with max_items."
    ),
    "Session length p50 / p99 / max": (
        "Items per session after each call (p50, p99, and the upper bound of the highest "
        "histogram bucket in use as 'max'). A growing p99 means conversations are never "
        "trimmed or cleared: set max_items or a TTL, or summarise old turns."
    ),
    "Session length growth (p99 change over 1h)": (
        "How much the job's p99 session length changed over the last hour (job filter "
        "only). Steady positive growth will hit the length bound; the "
        "OpenAIAgentsSessionLengthGrowing alert predicts when."
    ),
    "Item size p50 / p99": (
        "Serialised size of written items. Large items (tool outputs, files) make every "
        "read of the session slower: store them elsewhere and keep a reference."
    ),
    "TTL refreshes per second": (
        "Calls that re-armed the session key's TTL. Zero while sessions have a TTL means "
        "keys may expire in the middle of conversations: check the ttl option and "
        "refresh_ttl_on_read."
    ),
    "Trimmed and corrupt items per second": (
        "Trimmed: items dropped from the oldest end by max_items (expected when a cap is "
        "set). Corrupt: stored items that were not valid JSON, skipped on reads and "
        "dropped on pops; any corrupt item means something else writes to the session "
        "keys. Follow the runbook's corrupt items section."
    ),
    "Telemetry errors per second": (
        "Failures inside the instrumentation (traces, metrics, logs, bridge), swallowed so "
        "storage keeps working. Non-zero means some spans, metrics or logs are missing: "
        "check the exporter/collector and the app's log configuration."
    ),
    "Retried writes and pops recognised per second": (
        "Copies of add_items and pop_item calls (redis-py re-sending after a lost reply, a "
        "late delivery, or the app's own retry after a timeout) that the store recognised "
        "and did not apply twice; a replayed pop returns the item the first one removed. "
        "Occasional retries are normal; a steady rate points at an unstable network, "
        "client timeouts shorter than Redis' replies, or Redis failovers."
    ),
    "Operation-log evictions per second": (
        "Operation-log entries pushed out while still inside their 2-minute window, by the "
        "operation whose call pushed them out. Zero is normal. Each eviction weakens "
        "exactly-once for one earlier call: a late copy of that write would be applied "
        "again, a replayed pop would find no item. Above zero, a conversation is busier "
        "than its log holds: over 12,000 writes and pops within 2 minutes (~100 a second), "
        "or over 1,000 pops (or 1 MiB of popped items) within 2 minutes. Find it with the span "
        "attribute openai_agents_session.log_evictions and follow the runbook's "
        "OpenAIAgentsSessionOperationLogEvicting section."
    ),
    "Sessions ended by max_age per second": (
        "Conversations that outlived RedisSession(max_age=...) and were deleted by it, "
        "counted when the next operation on the conversation (within 2 minutes of the "
        "deadline) finds it gone; that operation starts a new session. Zero without "
        "max_age. A rise after a deploy means max_age is shorter than conversations last: "
        "users see their history restart."
    ),
}
