"""The Agents SDK ``TracingProcessor`` that mirrors SDK traces as OpenTelemetry spans.

Each SDK trace becomes a root ``invoke_workflow`` span (a child of whatever OTel
span is current where the SDK trace starts, e.g. the app's request span); each SDK
span becomes a child of the mirror of its SDK parent. Mirrors are looked up by SDK
ids, never attached to the OTel context from the SDK's callbacks: the SDK starts
some spans without making them current (streamed model calls) and may finish a
span from another task, so an attach/detach pair there would leave the OTel
context pointing at the wrong span. Instead :meth:`AgentsTraceMirror.storage_parent`
answers, at the moment of each storage call, "which mirror belongs to the SDK span
that is current right now".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from agents.tracing import Span as SdkSpan
from agents.tracing import Trace as SdkTrace
from agents.tracing import TracingProcessor, get_current_span, get_current_trace
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, Status, StatusCode, Tracer

from .agents_bridge_attributes import (
    CONVERSATION_ID,
    SpanShape,
    end_attributes,
    error_attributes,
    span_shape,
    workflow_shape,
)
from .parenting import StorageParent, pop_unparented

__all__ = ["AgentsTraceMirror", "ErrorReporter"]

# Called with where the failure happened and the exception; must not raise.
ErrorReporter = Callable[[str, BaseException], None]

LINK_REASON = "openai_agents_session.link.reason"


@dataclass(eq=False)
class _Mirror:
    span: Span
    parent: _Mirror | None
    conversation_id: str | None = None


@dataclass(eq=False)
class _TraceMirrors:
    """The mirrors of one SDK trace; ended ones stay until the trace ends, because
    the SDK can leave an ended span current and storage calls still need its mirror."""

    root: _Mirror | None
    spans: dict[str, _Mirror] = field(default_factory=dict)
    open_spans: int = 0
    ended: bool = False

    def finished(self) -> bool:
        return (self.ended or self.root is None) and self.open_spans == 0


class AgentsTraceMirror(TracingProcessor):
    """Mirror SDK traces and spans as OTel spans; answer storage calls' parent."""

    def __init__(
        self,
        tracer: Tracer,
        *,
        capture_content: bool,
        copy_conversation_id: bool,
        report_error: ErrorReporter,
    ) -> None:
        self._tracer = tracer
        self._capture_content = capture_content
        self._copy_conversation_id = copy_conversation_id
        self._report_error = report_error
        self._lock = threading.Lock()
        self._traces: dict[str, _TraceMirrors] = {}
        self.active = True

    # -- SDK callbacks: each one swallows and reports its own failures -----------

    def on_trace_start(self, sdk_trace: SdkTrace) -> None:
        if self.active:
            self._guard("on_trace_start", self._start_trace, sdk_trace)

    def on_trace_end(self, sdk_trace: SdkTrace) -> None:
        if self.active:
            self._guard("on_trace_end", self._end_trace, sdk_trace)

    def on_span_start(self, sdk_span: SdkSpan[Any]) -> None:
        if self.active:
            self._guard("on_span_start", self._start_span, sdk_span)

    def on_span_end(self, sdk_span: SdkSpan[Any]) -> None:
        if self.active:
            self._guard("on_span_end", self._end_span, sdk_span)

    def shutdown(self) -> None:
        """Nothing to flush: the OTel provider owned by the app exports the spans."""

    def force_flush(self) -> None:
        """Nothing buffered here."""

    def _guard(self, where: str, step: Callable[[Any], None], item: Any) -> None:
        try:
            step(item)
        except Exception as exc:
            self._report_error(where, exc)

    # -- the parent of storage spans ---------------------------------------------

    def storage_parent(self) -> StorageParent | None:
        """The mirror of the SDK span current now (or of the current trace's root)."""
        if not self.active:
            return None
        try:
            mirror = self._current_mirror()
            if mirror is None:
                return None
            on_conversation = (
                partial(self._conversation_seen, mirror) if self._copy_conversation_id else None
            )
            return StorageParent(
                context=trace.set_span_in_context(mirror.span), on_conversation=on_conversation
            )
        except Exception as exc:
            self._report_error("storage_parent", exc)
            return None

    def current_context(self) -> Context | None:
        """The OTel context whose current span mirrors the SDK's current span."""
        mirror = self._current_mirror() if self.active else None
        return None if mirror is None else trace.set_span_in_context(mirror.span)

    def _current_mirror(self) -> _Mirror | None:
        sdk_span = get_current_span()
        sdk_trace = get_current_trace()
        with self._lock:
            if sdk_span is not None:
                mirrors = self._traces.get(sdk_span.trace_id)
                if mirrors is not None:
                    found = mirrors.spans.get(sdk_span.span_id) or mirrors.root
                    if found is not None:
                        return found
            if sdk_trace is not None:
                mirrors = self._traces.get(sdk_trace.trace_id)
                if mirrors is not None:
                    return mirrors.root
        return None

    def _conversation_seen(self, mirror: _Mirror, conversation_id: str) -> None:
        # Up from the span that made the storage call, so the agent, task and
        # workflow spans of the run carry it; spans started later inherit it.
        with self._lock:
            node: _Mirror | None = mirror
            while node is not None and node.conversation_id is None:
                node.conversation_id = conversation_id
                if node.span.is_recording():
                    node.span.set_attribute(CONVERSATION_ID, conversation_id)
                node = node.parent

    # -- opening and closing mirrors ---------------------------------------------

    def _start_trace(self, sdk_trace: SdkTrace) -> None:
        earlier = pop_unparented()
        shape = workflow_shape(sdk_trace.name, sdk_trace.trace_id)
        # Storage calls made just before the trace opened (Runner.run reads the
        # session first): siblings when they share the app's trace, else linked.
        current_trace_id = trace.get_current_span().get_span_context().trace_id
        links = [
            Link(note.span_context, {LINK_REASON: "storage call before the agent trace"})
            for note in earlier
            if note.span_context.trace_id != current_trace_id
        ]
        conversation_id = next((n.conversation_id for n in earlier if n.conversation_id), None)
        attributes = dict(shape.attributes)
        if conversation_id is not None and self._copy_conversation_id:
            attributes[CONVERSATION_ID] = conversation_id
        else:
            conversation_id = None
        span = self._tracer.start_span(
            shape.name, kind=shape.kind, attributes=attributes, links=links
        )
        root = _Mirror(span, None, conversation_id)
        with self._lock:
            self._traces[sdk_trace.trace_id] = _TraceMirrors(root)

    def _end_trace(self, sdk_trace: SdkTrace) -> None:
        with self._lock:
            mirrors = self._traces.get(sdk_trace.trace_id)
            if mirrors is None or mirrors.root is None or mirrors.ended:
                return
            mirrors.ended = True
            if mirrors.finished():
                del self._traces[sdk_trace.trace_id]
        mirrors.root.span.end()

    def _start_span(self, sdk_span: SdkSpan[Any]) -> None:
        shape: SpanShape = span_shape(sdk_span.span_data, sdk_span.span_id)
        attributes = dict(shape.attributes)
        # Held while the OTel span starts, so a trace ending on another thread
        # cannot drop the bookkeeping of a span that is being opened.
        with self._lock:
            mirrors = self._traces.get(sdk_span.trace_id)
            if mirrors is None:
                # A trace whose start we did not see (bridge enabled mid-run, or a
                # resumed run reattaching to its trace): parent under the OTel context.
                mirrors = self._traces[sdk_span.trace_id] = _TraceMirrors(None)
            parent = mirrors.spans.get(sdk_span.parent_id or "") or mirrors.root
            conversation_id = parent.conversation_id if parent is not None else None
            if conversation_id is not None:
                attributes[CONVERSATION_ID] = conversation_id
            span = self._tracer.start_span(
                shape.name,
                context=trace.set_span_in_context(parent.span) if parent is not None else None,
                kind=shape.kind,
                attributes=attributes,
            )
            mirrors.spans[sdk_span.span_id] = _Mirror(span, parent, conversation_id)
            mirrors.open_spans += 1

    def _end_span(self, sdk_span: SdkSpan[Any]) -> None:
        with self._lock:
            mirrors = self._traces.get(sdk_span.trace_id)
            mirror = mirrors.spans.get(sdk_span.span_id) if mirrors is not None else None
            if mirrors is None or mirror is None:
                return
            mirrors.open_spans -= 1
            if mirrors.finished():
                del self._traces[sdk_span.trace_id]
        span = mirror.span
        try:
            if span.is_recording():
                new_name, attributes = end_attributes(
                    sdk_span.span_data, capture_content=self._capture_content
                )
                span.set_attributes(attributes)
                if new_name and new_name != getattr(span, "name", None):
                    span.update_name(new_name)
                failed = error_attributes(sdk_span.error)
                if failed is not None:
                    description, error_attrs = failed
                    span.set_attributes(error_attrs)
                    span.set_status(Status(StatusCode.ERROR, description))
        finally:
            span.end()

    def end_all(self) -> None:
        """End every mirror still open (on uninstall), so none is lost unexported."""
        with self._lock:
            traces, self._traces = self._traces, {}
        for mirrors in traces.values():
            for mirror in mirrors.spans.values():
                if mirror.span.is_recording():
                    mirror.span.end()
            if mirrors.root is not None and mirrors.root.span.is_recording():
                mirrors.root.span.end()
