"""What each Agents SDK span becomes in OpenTelemetry: name, kind and attributes.

Pure functions of the SDK's span data, kept apart from the code that opens and
closes spans. Names and attributes follow the OpenTelemetry GenAI semantic
conventions where they define the operation (``invoke_workflow``,
``invoke_agent``, ``chat``, ``execute_tool``); the SDK's own vocabulary
(``task``, ``turn``, ``handoff``, ``guardrail``...) under ``openai_agents.*``
where they do not. Content (prompts, completions, tool arguments and results,
custom span data) is only produced when the caller opts in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

__all__ = [
    "CONVERSATION_ID",
    "SDK_SPAN_ID",
    "SDK_TRACE_ID",
    "SpanShape",
    "end_attributes",
    "error_attributes",
    "span_shape",
    "workflow_shape",
]

OPERATION = "gen_ai.operation.name"
CONVERSATION_ID = "gen_ai.conversation.id"
SPAN_TYPE = "openai_agents.span.type"
SDK_SPAN_ID = "openai_agents.span_id"
SDK_TRACE_ID = "openai_agents.trace_id"

Attributes = dict[str, AttributeValue]

_USAGE = {
    "input_tokens": "gen_ai.usage.input_tokens",
    "output_tokens": "gen_ai.usage.output_tokens",
    "cached_input_tokens": "gen_ai.usage.cache_read.input_tokens",
    "cache_write_input_tokens": "gen_ai.usage.cache_creation.input_tokens",
}
_INPUT_DETAILS = {
    "cached_tokens": "gen_ai.usage.cache_read.input_tokens",
    "cache_write_tokens": "gen_ai.usage.cache_creation.input_tokens",
}
_MODEL_CONFIG = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "max_tokens": "gen_ai.request.max_tokens",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
}


@dataclass(frozen=True)
class SpanShape:
    name: str
    kind: SpanKind = SpanKind.INTERNAL
    attributes: Attributes = field(default_factory=dict)


def workflow_shape(workflow_name: str, sdk_trace_id: str) -> SpanShape:
    """The root span of one SDK trace."""
    return SpanShape(
        f"invoke_workflow {workflow_name}",
        attributes={
            OPERATION: "invoke_workflow",
            "gen_ai.workflow.name": workflow_name,
            SPAN_TYPE: "trace",
            SDK_TRACE_ID: sdk_trace_id,
        },
    )


def span_shape(data: Any, sdk_span_id: str) -> SpanShape:
    """Name, kind and the attributes known when the SDK span starts."""
    kind = str(getattr(data, "type", "unknown"))
    attributes: Attributes = {SPAN_TYPE: kind, SDK_SPAN_ID: sdk_span_id}
    name = getattr(data, "name", None)
    if kind == "agent":
        attributes |= {OPERATION: "invoke_agent", "gen_ai.agent.name": str(name)}
        return SpanShape(f"invoke_agent {name}", SpanKind.INTERNAL, attributes)
    if kind == "function":
        attributes |= {
            OPERATION: "execute_tool",
            "gen_ai.tool.name": str(name),
            "gen_ai.tool.type": "function",
        }
        return SpanShape(f"execute_tool {name}", SpanKind.INTERNAL, attributes)
    if kind in ("generation", "response"):
        attributes[OPERATION] = "chat"
        model = getattr(data, "model", None)
        attributes |= _model_config(getattr(data, "model_config", None))
        if kind == "response":
            attributes["gen_ai.provider.name"] = "openai"
        if model:
            attributes["gen_ai.request.model"] = str(model)
            return SpanShape(f"chat {model}", SpanKind.CLIENT, attributes)
        return SpanShape("chat", SpanKind.CLIENT, attributes)
    if kind == "task":
        return SpanShape(f"task {name}", SpanKind.INTERNAL, attributes)
    if kind == "turn":
        agent = str(getattr(data, "agent_name", ""))
        attributes |= {"gen_ai.agent.name": agent, "openai_agents.turn": _int(data, "turn")}
        return SpanShape(f"turn {agent}", SpanKind.INTERNAL, attributes)
    if kind == "guardrail":
        attributes["openai_agents.guardrail.name"] = str(name)
        return SpanShape(f"guardrail {name}", SpanKind.INTERNAL, attributes)
    if kind == "mcp_tools":
        server = getattr(data, "server", None)
        if server:
            attributes["openai_agents.mcp.server"] = str(server)
        return SpanShape(f"list_tools {server or ''}".strip(), SpanKind.INTERNAL, attributes)
    if kind == "handoff":
        return SpanShape("handoff", SpanKind.INTERNAL, attributes)
    return SpanShape(str(name) if name else kind, SpanKind.INTERNAL, attributes)


def end_attributes(data: Any, *, capture_content: bool) -> tuple[str | None, Attributes]:
    """A better name (when only now known) and the attributes known at the end."""
    kind = str(getattr(data, "type", "unknown"))
    attributes: Attributes = _usage(getattr(data, "usage", None))
    new_name: str | None = None
    if kind == "agent":
        for key in ("tools", "handoffs"):
            names = getattr(data, key, None)
            if names:
                attributes[f"openai_agents.agent.{key}"] = [str(n) for n in names]
        if getattr(data, "output_type", None):
            attributes["openai_agents.agent.output_type"] = str(data.output_type)
    elif kind == "function" and capture_content:
        _put(attributes, "gen_ai.tool.call.arguments", getattr(data, "input", None))
        _put(attributes, "gen_ai.tool.call.result", getattr(data, "output", None))
    elif kind == "generation":
        if capture_content:
            _put(attributes, "gen_ai.input.messages", messages(getattr(data, "input", None)))
            _put(attributes, "gen_ai.output.messages", messages(getattr(data, "output", None)))
    elif kind == "response":
        new_name = _response_attributes(data, attributes, capture_content)
    elif kind == "guardrail":
        attributes["openai_agents.guardrail.triggered"] = bool(getattr(data, "triggered", False))
    elif kind == "handoff":
        source, target = getattr(data, "from_agent", None), getattr(data, "to_agent", None)
        if source:
            attributes["openai_agents.handoff.from_agent"] = str(source)
        if target:
            attributes["openai_agents.handoff.to_agent"] = str(target)
        new_name = f"handoff {source} -> {target}"
    elif kind == "custom" and capture_content:
        _put(attributes, "openai_agents.custom.data", getattr(data, "data", None))
    return new_name, attributes


def error_attributes(error: Mapping[str, Any] | None) -> tuple[str, Attributes] | None:
    """Status description and attributes of a failed SDK span, or ``None``.

    The SDK's error message is a short summary written for export ("Error running
    tool", "Max turns exceeded"); its ``data`` may hold user input and is left out.
    """
    if not error:
        return None
    message = str(error.get("message") or "error")[:200]
    return message, {"error.type": message}


def _response_attributes(data: Any, attributes: Attributes, capture_content: bool) -> str | None:
    response = getattr(data, "response", None)
    if response is None:
        return None
    model = getattr(response, "model", None)
    if getattr(response, "id", None):
        attributes["gen_ai.response.id"] = str(response.id)
    if getattr(data, "usage", None) is None:
        attributes |= _usage(_dump(getattr(response, "usage", None)))
    if capture_content:
        _put(attributes, "gen_ai.input.messages", messages(getattr(data, "input", None)))
        _put(attributes, "gen_ai.output.messages", messages(getattr(response, "output", None)))
        _put(attributes, "gen_ai.system_instructions", getattr(response, "instructions", None))
    if not model:
        return None
    attributes["gen_ai.response.model"] = str(model)
    attributes["gen_ai.request.model"] = str(model)
    return f"chat {model}"


def _usage(usage: Any) -> Attributes:
    attributes: Attributes = {}
    if not isinstance(usage, Mapping):
        return attributes
    for key, name in _USAGE.items():
        if isinstance(usage.get(key), int):
            attributes[name] = usage[key]
    details = usage.get("input_tokens_details")
    if isinstance(details, Mapping):
        for key, name in _INPUT_DETAILS.items():
            if isinstance(details.get(key), int):
                attributes.setdefault(name, details[key])
    details = usage.get("output_tokens_details")
    if isinstance(details, Mapping) and isinstance(details.get("reasoning_tokens"), int):
        attributes["gen_ai.usage.reasoning.output_tokens"] = details["reasoning_tokens"]
    return attributes


def _model_config(config: Any) -> Attributes:
    attributes: Attributes = {}
    if not isinstance(config, Mapping):
        return attributes
    for key, name in _MODEL_CONFIG.items():
        value = config.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes[name] = value
    base_url = config.get("base_url")
    if isinstance(base_url, str) and base_url:
        host = urlsplit(base_url).hostname
        if host:
            attributes["server.address"] = host
            if host == "api.openai.com":
                attributes["gen_ai.provider.name"] = "openai"
    return attributes


def messages(items: Any) -> list[dict[str, Any]] | None:
    """SDK input/output items as GenAI messages: ``{"role", "parts": [...]}``."""
    if items is None:
        return None
    if isinstance(items, str):
        return [{"role": "user", "parts": [{"type": "text", "content": items}]}]
    converted = []
    for raw in items if isinstance(items, list | tuple) else [items]:
        item = _dump(raw)
        if not isinstance(item, Mapping):
            converted.append({"role": "user", "parts": [{"type": "text", "content": str(item)}]})
            continue
        item_type = item.get("type")
        if item_type == "function_call":
            part = {"type": "tool_call", "id": item.get("call_id"), "name": item.get("name")}
            part["arguments"] = item.get("arguments")
            converted.append({"role": "assistant", "parts": [part]})
        elif item_type == "function_call_output":
            part = {"type": "tool_call_response", "id": item.get("call_id")}
            part["response"] = item.get("output")
            converted.append({"role": "tool", "parts": [part]})
        elif "role" in item:
            converted.append({"role": item["role"], "parts": _parts(item.get("content"))})
        else:
            converted.append({"role": "assistant", "parts": [{"type": str(item_type), **item}]})
    return converted


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts = []
    for raw in content or ():
        part = _dump(raw)
        if isinstance(part, Mapping) and isinstance(part.get("text"), str):
            parts.append({"type": "text", "content": part["text"]})
        else:
            parts.append({"type": "unknown", "content": part})
    return parts


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(exclude_none=True) if callable(dump) else value


def _put(attributes: Attributes, name: str, value: Any) -> None:
    if value is None:
        return
    attributes[name] = value if isinstance(value, str) else _json(value)


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda o: _dump(o) if hasattr(o, "model_dump") else str(o))


def _int(data: Any, attribute: str) -> int:
    value = getattr(data, attribute, 0)
    return value if isinstance(value, int) else 0
