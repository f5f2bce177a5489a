"""The gateway's Responses dialect against the official OpenAI Python client (pinned in
requirements.txt): what Codex CLI and the OpenAI Agents SDK send.

Driven by gateway/tests/openai_python.rs, which starts `gateway --emulator --port 0` with a
client key and an alias (`claude-sonnet-4-5`), and passes GATEWAY_URL and GATEWAY_KEY.
"""

import json
import os

import openai
import pytest

URL = os.environ["GATEWAY_URL"]
KEY = os.environ["GATEWAY_KEY"]
NOVA = "amazon-bedrock/amazon.nova-micro-v1:0"
SONNET = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def client():
    return openai.OpenAI(base_url=URL, api_key=KEY, max_retries=0)


def scenario(script):
    return "EMULATOR_SCENARIO " + json.dumps(script)


def test_a_response_whole():
    done = client().responses.create(model=NOVA, instructions="Be brief.", input="Hello there", store=False)
    assert done.object == "response" and done.status == "completed"
    assert "You said: Hello there." in done.output_text
    assert done.usage.input_tokens > 0 and done.usage.output_tokens > 0
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens


def test_a_streamed_response_has_openais_events_in_order():
    events = list(client().responses.create(
        model="claude-sonnet-4-5",
        input=[{"role": "user", "content": [{"type": "input_text", "text": scenario({"text": "streamed words", "deltaSize": 3})}]}],
        stream=True,
    ))
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "streamed words" and len(deltas) > 2
    final = events[-1].response
    assert final.output_text == "streamed words" and final.usage.output_tokens > 0
    assert final.model == "claude-sonnet-4-5"


def test_a_function_call_round_trip_streamed():
    events = list(client().responses.create(
        model=SONNET,
        input=scenario({"toolCalls": [{"name": "get_weather", "input": {"city": "Oslo"}, "fragmentSize": 4}]}),
        tools=[WEATHER],
        stream=True,
    ))
    pieces = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert len(pieces) > 1 and "".join(pieces) == done.arguments
    call = next(i for i in events[-1].response.output if i.type == "function_call")
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Oslo"}
    second = client().responses.create(
        model=SONNET,
        tools=[WEATHER],
        input=[
            {"role": "user", "content": "weather in Oslo?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 18 C"},
        ],
    )
    assert second.status == "completed" and second.output_text


def test_a_model_that_answers_only_on_bedrocks_responses_api_reasons_through_the_gateway():
    # GPT-5.5 is served by Bedrock's Mantle only; the plugin calls it there, and the reasoning
    # tokens Bedrock counts reach the client, with the reasoning carried to the next turn.
    first = client().responses.create(
        model="amazon-bedrock/openai.gpt-5.5", input="Hello Mantle", reasoning={"effort": "low"},
        include=["reasoning.encrypted_content"], store=False,
    )
    assert first.status == "completed" and "You said: Hello Mantle." in first.output_text
    assert first.usage.output_tokens_details.reasoning_tokens > 0
    assert first.usage.output_tokens_details.reasoning_tokens <= first.usage.output_tokens
    history = [{"role": "user", "content": "Hello Mantle"}]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"role": "user", "content": "Once more"})
    second = client().responses.create(model="amazon-bedrock/openai.gpt-5.5", input=history, store=False)
    assert "You said: Once more." in second.output_text


def test_a_custom_tool_as_codex_sends_apply_patch():
    patch_tool = {"type": "custom", "name": "apply_patch", "description": "Apply a patch",
                  "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}}
    patch = "*** Begin Patch\n*** End Patch"
    first = client().responses.create(
        model=SONNET,
        input=scenario({"toolCalls": [{"name": "apply_patch", "input": {"input": patch}}]}),
        tools=[patch_tool],
    )
    call = next(i for i in first.output if i.type == "custom_tool_call")
    assert call.name == "apply_patch" and call.input == patch
    second = client().responses.create(
        model=SONNET,
        tools=[patch_tool],
        input=[
            {"role": "user", "content": "patch it"},
            {"type": "custom_tool_call", "call_id": call.call_id, "name": call.name, "input": call.input},
            {"type": "custom_tool_call_output", "call_id": call.call_id, "output": "Done!"},
        ],
    )
    assert second.output_text


def test_structured_output_follows_the_schema():
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}
    done = client().responses.create(
        model=SONNET,
        input="Where is it warm?",
        text={"format": {"type": "json_schema", "name": "place", "schema": schema, "strict": True}},
    )
    assert isinstance(json.loads(done.output_text)["city"], str)


def test_reasoning_reaches_the_client_as_summaries_and_goes_back_encrypted():
    asked = dict(model=SONNET, reasoning={"effort": "low", "summary": "auto"}, include=["reasoning.encrypted_content"], store=False)
    events = list(client().responses.create(input="Think first", stream=True, **asked))
    summary = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    first = events[-1].response
    reasoning = first.output[0]
    assert reasoning.type == "reasoning" and reasoning.summary[0].text == summary and summary
    assert reasoning.encrypted_content
    history = [{"role": "user", "content": "Think first"}] + [item.model_dump(exclude_none=True) for item in first.output]
    again = client().responses.create(input=history + [{"role": "user", "content": "And now?"}], **asked)
    assert again.status == "completed" and again.output_text
    tampered = dict(history[1], encrypted_content=reasoning.encrypted_content[:-4] + "AAAA")
    with pytest.raises(openai.BadRequestError):
        client().responses.create(input=[history[0], tampered, *history[2:], {"role": "user", "content": "?"}], **asked)


def test_the_gateway_keeps_no_state_and_says_how_to_send_the_whole_input():
    for refused in ({"previous_response_id": "resp_123"}, {"store": True}):
        with pytest.raises(openai.BadRequestError, match="send the whole conversation"):
            client().responses.create(model=NOVA, input="hi", **refused)


def test_tools_that_run_on_openais_platform_are_refused_by_name():
    with pytest.raises(openai.BadRequestError, match="web_search"):
        client().responses.create(model=NOVA, input="hi", tools=[{"type": "web_search"}])


def test_a_failure_mid_stream_is_a_failed_response_with_the_output_so_far():
    events = list(client().responses.create(
        model=NOVA,
        input=scenario({"text": "abcdefghij", "deltaSize": 2,
                        "fault": {"kind": "exception", "afterEvents": 4, "exception": "modelStreamErrorException"}}),
        stream=True,
    ))
    assert events[-1].type == "response.failed"
    failed = events[-1].response
    assert failed.status == "failed" and "modelStreamErrorException" in failed.error.message
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "abcdef"
