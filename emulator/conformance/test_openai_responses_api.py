"""Conformance test: the official OpenAI Python client against the emulator's
OpenAI-compatible Responses API (Bedrock's `/openai/v1/responses` on Mantle and on
bedrock-runtime, Mantle's `/v1/responses`).

The client is pointed at the emulator as Bedrock's docs point it at Mantle: a Bedrock API key
as the client's key, or every request signed with SigV4 for `bedrock-mantle` by botocore's
own signer (as AWS's samples do). If the client parses every answer and every streamed event,
and the emulator refuses what Bedrock refuses, the emulator speaks the API well enough for the
plugin's tests to prove what it sends.

Run through `cargo test -p emulator --test botocore` (same environment as test_botocore.py).
"""

import json
import os

import openai
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL = os.environ.get("EMULATOR_URL", "")
REGION = os.environ.get("EMULATOR_REGION", "")
API_KEY = os.environ.get("EMULATOR_API_KEY", "")
GPT = "openai.gpt-5.5"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": True,
}


def keyed(path="/openai/v1"):
    return openai.OpenAI(base_url=URL + path, api_key=API_KEY, max_retries=0)


def signed(service, path="/openai/v1"):
    """A client whose every request botocore signs with SigV4 for `service`."""
    credentials = Credentials(
        os.environ["EMULATOR_ACCESS_KEY_ID"], os.environ["EMULATOR_SECRET_ACCESS_KEY"]
    )

    def sign(request):
        body = request.read()
        aws = AWSRequest(
            method=request.method,
            url=str(request.url),
            data=body,
            headers={"content-type": request.headers.get("content-type", "application/json")},
        )
        SigV4Auth(credentials, service, REGION).add_auth(aws)
        for name in ("authorization", "x-amz-date", "x-amz-security-token"):
            if name in aws.headers:
                request.headers[name] = aws.headers[name]

    http = openai.DefaultHttpxClient(event_hooks={"request": [sign]})
    return openai.OpenAI(base_url=URL + path, api_key="unused", http_client=http, max_retries=0)


def scenario(script):
    return "EMULATOR_SCENARIO " + json.dumps(script)


def test_a_whole_response_with_a_bedrock_api_key():
    done = keyed().responses.create(model=GPT, input="Hello there", reasoning={"effort": "low"}, store=False)
    assert done.status == "completed"
    assert "You said: Hello there." in done.output_text
    assert done.usage.output_tokens_details.reasoning_tokens > 0
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens


def test_a_streamed_response_signed_for_bedrock_mantle():
    with signed("bedrock-mantle").responses.stream(
        model=GPT,
        input=[{"role": "user", "content": [{"type": "input_text", "text": scenario({"text": "streamed words", "deltaSize": 3})}]}],
        reasoning={"effort": "medium", "summary": "auto"},
        include=["reasoning.encrypted_content"],
        store=False,
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in kinds
    assert kinds.count("response.output_text.delta") > 2
    assert final.output_text == "streamed words"
    reasoning = [item for item in final.output if item.type == "reasoning"]
    assert reasoning and reasoning[0].encrypted_content and reasoning[0].summary[0].text


def test_reasoning_and_a_function_call_go_back_as_they_came():
    client = keyed()
    first = client.responses.create(
        model=GPT,
        input=[{"role": "user", "content": scenario({"toolCalls": [{"name": "get_weather", "input": {"city": "Paris"}, "id": "call_w1"}]})}],
        tools=[WEATHER],
        reasoning={"effort": "low"},
        include=["reasoning.encrypted_content"],
        store=False,
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert calls and calls[0].call_id == "call_w1" and json.loads(calls[0].arguments) == {"city": "Paris"}
    history = [{"role": "user", "content": "Weather in Paris?"}]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"type": "function_call_output", "call_id": "call_w1", "output": "sunny"})
    second = client.responses.create(model=GPT, input=history, tools=[WEATHER], store=False)
    assert second.status == "completed" and "(a tool result)" in second.output_text
    tampered = [dict(item) for item in history]
    for item in tampered:
        if item.get("type") == "reasoning":
            item["encrypted_content"] = item["encrypted_content"][::-1]
    with pytest.raises(openai.BadRequestError, match="could not be verified"):
        client.responses.create(model=GPT, input=tampered, tools=[WEATHER], store=False)


def test_structured_output_matches_its_schema():
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": False}
    done = keyed().responses.create(
        model=GPT,
        input="Answer in JSON",
        text={"format": {"type": "json_schema", "name": "reply", "schema": schema, "strict": True}},
        store=False,
    )
    assert set(json.loads(done.output_text)) == {"answer"}


def test_a_short_output_limit_ends_incomplete():
    done = keyed().responses.create(
        model=GPT, input=scenario({"textLength": 4000}), reasoning={"effort": "none"}, max_output_tokens=16, store=False
    )
    assert done.status == "incomplete" and done.incomplete_details.reason == "max_output_tokens"


def test_what_bedrock_refuses_is_refused_in_openais_shape():
    client = keyed()
    with pytest.raises(openai.BadRequestError, match="Unknown parameter: 'reasoning_effort'"):
        client.responses.create(model=GPT, input="hi", extra_body={"reasoning_effort": "low"})
    with pytest.raises(openai.BadRequestError, match="Supported values are"):
        client.responses.create(model=GPT, input="hi", reasoning={"effort": "extreme"})
    with pytest.raises(openai.BadRequestError, match="'temperature' is not supported"):
        client.responses.create(model=GPT, input="hi", temperature=0.2)
    with pytest.raises(openai.BadRequestError, match=r"Expected a value >= 16"):
        client.responses.create(model=GPT, input="hi", max_output_tokens=5)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.responses.create(model="openai.gpt-9", input="hi")
    with pytest.raises(openai.BadRequestError, match="does not support the '/v1/responses' API"):
        keyed("/v1").responses.create(model=GPT, input="hi")
    with pytest.raises(openai.BadRequestError, match="No tool call found"):
        client.responses.create(model=GPT, input=[{"type": "function_call_output", "call_id": "call_x", "output": "1"}])


def test_grok_takes_its_own_reasoning_levels_and_sampling_while_reasoning():
    client = keyed()
    grok = "xai.grok-4.3"
    done = client.responses.create(model=grok, input="Hello Grok", reasoning={"effort": "high"}, temperature=0.2)
    assert done.status == "completed" and "Hello Grok" in done.output_text
    assert done.usage.output_tokens_details.reasoning_tokens > 0
    with pytest.raises(openai.BadRequestError, match="Supported values are"):
        client.responses.create(model=grok, input="hi", reasoning={"effort": "xhigh"})
    with pytest.raises(openai.BadRequestError, match="does not support the '/v1/responses' API"):
        keyed("/v1").responses.create(model=grok, input="hi")


def test_bedrock_runtime_answers_whole_responses_only():
    runtime = signed("bedrock")
    done = runtime.responses.create(model=GPT, input="Hello", store=False)
    assert done.status == "completed"
    with pytest.raises(openai.BadRequestError, match="Streaming is not supported"):
        runtime.responses.create(model=GPT, input="Hello", stream=True)


def test_a_signature_for_another_service_is_refused():
    with pytest.raises(openai.PermissionDeniedError):
        signed("bedrock", path="/v1").responses.create(model="openai.gpt-oss-120b", input="hi")


# Chat Completions (gpt-oss): /openai/v1/chat/completions on both hosts, /v1 on Mantle.

OSS = "openai.gpt-oss-120b"
CALC = {"type": "function", "function": {"name": "add", "description": "Adds", "parameters": {"type": "object", "properties": {"a": {"type": "number"}}}}}


def test_chat_completions_whole_and_streamed():
    client = keyed("/v1")
    done = client.chat.completions.create(model=OSS, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello chat"}])
    assert done.choices[0].finish_reason == "stop"
    assert "You said: Hello chat." in done.choices[0].message.content
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    chunks = list(client.chat.completions.create(
        model=OSS, messages=[{"role": "user", "content": scenario({"text": "streamed chat", "deltaSize": 4})}],
        stream=True, stream_options={"include_usage": True},
    ))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "streamed chat"
    assert chunks[-1].usage.completion_tokens > 0 and chunks[-2].choices[0].finish_reason == "stop"
    runtime = signed("bedrock")
    done = runtime.chat.completions.create(model="openai.gpt-oss-120b-1:0", messages=[{"role": "user", "content": "Hi runtime"}])
    assert "You said: Hi runtime." in done.choices[0].message.content


def test_a_chat_tool_round_trip_and_what_the_route_refuses():
    client = keyed("/v1")
    first = client.chat.completions.create(
        model=OSS, tools=[CALC],
        messages=[{"role": "user", "content": scenario({"toolCalls": [{"name": "add", "input": {"a": 2}, "id": "call_a1"}]})}],
    )
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls" and call.id == "call_a1" and json.loads(call.function.arguments) == {"a": 2}
    second = client.chat.completions.create(model=OSS, tools=[CALC], messages=[
        {"role": "user", "content": "add"}, first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": "call_a1", "content": "4"},
    ])
    assert "(a tool result)" in second.choices[0].message.content
    with pytest.raises(openai.BadRequestError, match="preceeding message with 'tool_calls'"):
        client.chat.completions.create(model=OSS, messages=[{"role": "tool", "tool_call_id": "x", "content": "4"}])
    with pytest.raises(openai.BadRequestError, match=r"does not support the '/v1/chat/completions' API"):
        client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])
