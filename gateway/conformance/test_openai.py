"""The gateway against the official OpenAI Python client (pinned in requirements.txt).

Driven by gateway/tests/openai_python.rs, which starts `gateway --emulator --port 0` with
a client key and passes GATEWAY_URL and GATEWAY_KEY.
"""

import json
import os

import openai
import pytest

URL = os.environ["GATEWAY_URL"]
KEY = os.environ["GATEWAY_KEY"]
NOVA = "amazon-bedrock/amazon.nova-micro-v1:0"
SONNET = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def client(key=KEY):
    return openai.OpenAI(base_url=URL, api_key=key, max_retries=0)


def scenario(script):
    return "EMULATOR_SCENARIO " + json.dumps(script)


def test_models_are_listed_as_provider_slash_model():
    ids = [m.id for m in client().models.list()]
    assert NOVA in ids and SONNET in ids


def test_a_model_is_retrieved_by_its_name():
    model = client().models.retrieve(NOVA)
    assert model.id == NOVA and model.owned_by == "amazon-bedrock"
    assert client().models.retrieve("amazon.nova-micro-v1:0").id == NOVA, "a bare id names it too"
    with pytest.raises(openai.NotFoundError):
        client().models.retrieve("amazon-bedrock/no-such-model")
    with pytest.raises(openai.PermissionDeniedError):
        client(key="limited-key").models.retrieve(SONNET)


def test_a_completion():
    done = client().chat.completions.create(
        model=NOVA, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
    )
    assert "You said: Hello there." in done.choices[0].message.content
    assert done.choices[0].finish_reason == "stop"
    assert done.usage.completion_tokens > 0


def test_a_streamed_completion_with_usage():
    chunks = list(
        client().chat.completions.create(
            model=NOVA,
            messages=[{"role": "user", "content": scenario({"text": "streamed words", "deltaSize": 3})}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed words"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.total_tokens > 0


def test_a_tool_round_trip():
    tools = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }]
    messages = [{"role": "user", "content": scenario({"toolCalls": [{"name": "get_weather", "input": {"city": "Oslo"}}]})}]
    first = client().chat.completions.create(model=SONNET, messages=messages, tools=tools, tool_choice="auto")
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Oslo"}
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "Sunny, 18 C"})
    second = client().chat.completions.create(model=SONNET, messages=messages, tools=tools)
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content


def test_streamed_tool_calls_arrive_in_pieces():
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    stream = client().chat.completions.create(
        model=SONNET,
        messages=[{"role": "user", "content": scenario({"toolCalls": [{"name": "lookup", "input": {"q": "rust"}, "fragmentSize": 3}]})}],
        tools=tools,
        stream=True,
    )
    arguments = ""
    names = []
    for chunk in stream:
        for call in chunk.choices[0].delta.tool_calls or []:
            if call.function.name:
                names.append(call.function.name)
            arguments += call.function.arguments or ""
    assert names == ["lookup"]
    assert json.loads(arguments) == {"q": "rust"}


def test_parallel_tool_calls_and_their_results():
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    two_calls = scenario({"toolCalls": [
        {"name": "get_weather", "input": {"city": "Oslo"}},
        {"name": "get_weather", "input": {"city": "Lima"}, "fragmentSize": 4},
    ]})
    messages = [{"role": "user", "content": two_calls}]
    first = client().chat.completions.create(model=SONNET, messages=messages, tools=tools)
    calls = first.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Oslo", "Lima"]
    assert len({c.id for c in calls}) == 2

    # Streamed, each call's pieces carry its own index.
    streamed = {}
    for chunk in client().chat.completions.create(model=SONNET, messages=messages, tools=tools, stream=True):
        for call in (chunk.choices[0].delta.tool_calls if chunk.choices else None) or []:
            entry = streamed.setdefault(call.index, {"id": None, "arguments": ""})
            entry["id"] = entry["id"] or call.id
            entry["arguments"] += call.function.arguments or ""
    assert sorted(streamed) == [0, 1]
    assert [json.loads(streamed[i]["arguments"])["city"] for i in (0, 1)] == ["Oslo", "Lima"]

    # Both results go back in one turn, as Bedrock requires.
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    for call, weather in zip(calls, ["Rain, 9 C", "Cloudy, 17 C"]):
        messages.append({"role": "tool", "tool_call_id": call.id, "content": weather})
    second = client().chat.completions.create(model=SONNET, messages=messages, tools=tools)
    assert second.choices[0].finish_reason == "stop"


def test_structured_output_with_a_json_schema():
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
              "required": ["city", "population"], "additionalProperties": False}
    done = client().chat.completions.create(
        model=SONNET,
        messages=[{"role": "user", "content": "A city, please"}],
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}},
    )
    answer = json.loads(done.choices[0].message.content)
    assert isinstance(answer["population"], int)


def test_errors_have_the_right_status():
    with pytest.raises(openai.AuthenticationError):
        client(key="wrong").models.list()
    with pytest.raises(openai.NotFoundError):
        client().chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError):
        client().chat.completions.create(model=NOVA, messages=[])
    # What would change the answer's shape is refused, not ignored.
    hello = [{"role": "user", "content": "hello"}]
    with pytest.raises(openai.BadRequestError, match="one choice"):
        client().chat.completions.create(model=NOVA, messages=hello, n=2)
    with pytest.raises(openai.BadRequestError, match="log probabilities"):
        client().chat.completions.create(model=NOVA, messages=hello, logprobs=True)
    with pytest.raises(openai.RateLimitError) as throttled:
        client().chat.completions.create(
            model=NOVA,
            messages=[{"role": "user", "content": scenario({"error": {"type": "ThrottlingException", "status": 429}})}],
        )
    assert throttled.value.response.headers.get("retry-after")


def test_a_key_limited_to_some_models():
    limited = client(key="limited-key")
    assert [m.id for m in limited.models.list()] == [NOVA], "it lists what it may use"
    done = limited.chat.completions.create(model=NOVA, messages=[{"role": "user", "content": "hi"}])
    assert done.choices[0].message.content
    with pytest.raises(openai.PermissionDeniedError):
        limited.chat.completions.create(model=SONNET, messages=[{"role": "user", "content": "hi"}])


def test_a_failure_mid_stream_ends_it_with_an_error_the_client_raises():
    received = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in client().chat.completions.create(
            model=NOVA,
            messages=[{"role": "user", "content": scenario({
                "text": "abcdefghij", "deltaSize": 2,
                "fault": {"kind": "exception", "afterEvents": 4, "exception": "modelStreamErrorException"},
            })}],
            stream=True,
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    assert "".join(received) == "abcdef", "the deltas before the failure arrive"
    assert failed.value.body["code"] == "service_error", failed.value.body
    assert "modelStreamErrorException" in failed.value.body["message"]


def test_an_unavailable_service_is_a_503():
    with pytest.raises(openai.InternalServerError) as unavailable:
        client().chat.completions.create(
            model=NOVA,
            messages=[{"role": "user", "content": scenario({"error": {"type": "ServiceUnavailableException", "status": 503}})}],
        )
    assert unavailable.value.status_code == 503


def test_a_voice_clip_goes_to_a_model_that_takes_speech():
    import base64
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00" + bytes([0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]) + b"data\x00\x00\x00\x00"
    clip = {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode(), "format": "wav"}}
    done = client().chat.completions.create(
        model="amazon-bedrock/mistral.voxtral-mini-3b-2507",
        messages=[{"role": "user", "content": [clip, {"type": "text", "text": "Transcribe this"}]}],
    )
    assert "Transcribe this" in done.choices[0].message.content
    with pytest.raises(openai.BadRequestError, match="does not take audio input"):
        client().chat.completions.create(
            model=SONNET, messages=[{"role": "user", "content": [clip, {"type": "text", "text": "?"}]}]
        )
