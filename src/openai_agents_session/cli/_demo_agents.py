"""The demo's conversations: an agent with a function tool, run turn after turn.

Offline (the default) each conversation gets its own ``ScriptedModel`` from the
Agents SDK: it answers every other question by calling the tool first, after a
short pause that stands in for a model's latency. With ``--model`` the same agent
talks to a real OpenAI model.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents import Agent, RunConfig, Runner, Session, function_tool
from agents.testing import ModelCall, ModelStep, ScriptedModel, assistant_message, function_call
from opentelemetry.trace import Tracer

__all__ = ["ConversationPlan", "run_conversation"]

CITIES = ("Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Tunis", "Quito", "Perth")
INSTRUCTIONS = (
    "You are a concise travel assistant. Use get_weather when asked about the weather, "
    "and answer in one short sentence."
)


@function_tool
def get_weather(city: str) -> str:
    """Today's weather in a city.

    Args:
        city: the city's name.
    """
    return f"{city}: 21°C, light wind, no rain"


@dataclass(frozen=True)
class ConversationPlan:
    index: int
    session_id: str
    turns: int
    model_delay: float
    model_name: str | None
    # The SDK's own tracing runs only when a bridge mirrors it into OpenTelemetry;
    # otherwise its default processor would upload the demo's traces to OpenAI.
    agent_tracing: bool
    arrival: float = 0.0  # 0..1: when, within the first model delay, this one starts

    def question(self, turn: int) -> str:
        city = CITIES[(self.index + turn) % len(CITIES)]
        if turn % 2 == 0:
            return f"What is the weather like in {city} today?"
        return f"Thanks! Anything I should pack for {city}?"


def _scripted_model(plan: ConversationPlan) -> ScriptedModel:
    rng = random.Random(plan.index)

    def after_pause(output: list[Any]) -> ModelStep:
        async def respond(call: ModelCall) -> list[Any]:
            # Jitter spreads the conversations out, like real model latency does.
            await asyncio.sleep(plan.model_delay * rng.uniform(0.5, 1.5))
            return output

        return ModelStep.respond(respond)

    steps: list[ModelStep] = []
    for turn in range(plan.turns):
        city = CITIES[(plan.index + turn) % len(CITIES)]
        if turn % 2 == 0:
            call_id = f"call-{plan.index}-{turn}"
            steps.append(
                after_pause([function_call("get_weather", {"city": city}, call_id=call_id)])
            )
            steps.append(after_pause([assistant_message(f"{city}: 21°C and calm today.")]))
        else:
            steps.append(after_pause([assistant_message(f"A light jacket is enough in {city}.")]))
    return ScriptedModel(steps, emit_traces=True)


def build_agent(plan: ConversationPlan) -> Agent[Any]:
    model: Any = plan.model_name if plan.model_name else _scripted_model(plan)
    return Agent(
        name="travel assistant", instructions=INSTRUCTIONS, model=model, tools=[get_weather]
    )


async def run_conversation(
    plan: ConversationPlan,
    session: Session,
    tracer: Tracer,
    on_turn: Callable[[], None],
) -> str:
    """Run every turn of ``plan`` on ``session``; returns the trace id of the conversation."""
    agent = build_agent(plan)
    # Conversations arrive spread over one model delay, not all in the same instant.
    await asyncio.sleep(plan.model_delay * plan.arrival)
    config = RunConfig(
        workflow_name="openai-agents-session demo", tracing_disabled=not plan.agent_tracing
    )
    with tracer.start_as_current_span(
        "demo conversation", attributes={"demo.conversation": plan.index}
    ) as conversation:
        for turn in range(plan.turns):
            with tracer.start_as_current_span(
                f"turn {turn + 1}", attributes={"demo.turn": turn + 1}
            ):
                await Runner.run(agent, plan.question(turn), session=session, run_config=config)
            on_turn()
        return format(conversation.get_span_context().trace_id, "032x")
