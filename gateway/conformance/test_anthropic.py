"""The gateway's Messages dialect against the official Anthropic Python client (pinned in
requirements.txt): what Claude Code and Anthropic's SDKs send.

Driven by gateway/tests/anthropic_python.rs, which starts `gateway --emulator --port 0` with
a client key and an alias (`claude-sonnet-4-5`), and passes GATEWAY_ROOT (the base URL
without /v1, as Anthropic's clients take it) and GATEWAY_KEY.
"""

import json
import os

import anthropic
import pytest

ROOT = os.environ["GATEWAY_ROOT"]
KEY = os.environ["GATEWAY_KEY"]
SONNET = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
ALIAS = "claude-sonnet-4-5"
REDACTED_TRIGGER = "ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCCE4C1253D5E2D82641AC0E52CC2876CB"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def client(**kwargs):
    kwargs.setdefault("api_key", KEY)
    return anthropic.Anthropic(base_url=ROOT, max_retries=0, **kwargs)


def scenario(script):
    return "EMULATOR_SCENARIO " + json.dumps(script)


def test_a_message_through_an_alias_with_either_kind_of_key():
    for c in (client(), client(api_key=None, auth_token=KEY)):
        done = c.messages.create(
            model=ALIAS,
            max_tokens=200,
            system=[{"type": "text", "text": "Be brief."}],
            messages=[{"role": "user", "content": "Hello there"}],
        )
        assert done.type == "message" and done.role == "assistant"
        assert "You said: Hello there." in done.content[0].text
        assert done.stop_reason == "end_turn"
        assert done.usage.input_tokens > 0 and done.usage.output_tokens > 0
        assert done.model == ALIAS


def test_a_streamed_message_arrives_in_pieces_and_whole():
    with client().messages.stream(
        model=SONNET,
        max_tokens=200,
        messages=[{"role": "user", "content": scenario({"text": "streamed words here", "deltaSize": 3})}],
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == "streamed words here" and len(pieces) > 3
    assert final.content[0].text == "streamed words here"
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0
    assert final.usage.input_tokens > 0, "message_delta carries the input tokens"


def test_a_tool_round_trip_streamed_and_whole():
    messages = [{"role": "user", "content": scenario({"toolCalls": [{"name": "get_weather", "input": {"city": "Oslo"}, "fragmentSize": 4}]})}]
    with client().messages.stream(model=SONNET, max_tokens=300, tools=[WEATHER], messages=messages) as stream:
        streamed = stream.get_final_message()
    call = next(b for b in streamed.content if b.type == "tool_use")
    assert call.name == "get_weather" and call.input == {"city": "Oslo"}
    assert streamed.stop_reason == "tool_use"
    messages += [
        {"role": "assistant", "content": streamed.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "Sunny, 18 C"}]},
    ]
    answer = client().messages.create(model=SONNET, max_tokens=300, tools=[WEATHER], tool_choice={"type": "auto"}, messages=messages)
    assert answer.stop_reason == "end_turn" and answer.content[0].type == "text"


def test_signed_thinking_goes_back_unchanged_and_a_changed_one_is_refused():
    thinking = {"type": "enabled", "budget_tokens": 1024}
    messages = [{"role": "user", "content": "Think first"}]
    with client().messages.stream(model=SONNET, max_tokens=2000, thinking=thinking, messages=messages) as stream:
        first = stream.get_final_message()
    block = first.content[0]
    assert block.type == "thinking" and block.thinking and block.signature
    whole = client().messages.create(model=SONNET, max_tokens=2000, thinking=thinking, messages=messages)
    assert whole.content[0].signature == block.signature, "streamed and whole thinking are signed alike"
    turn = messages + [{"role": "assistant", "content": first.content}, {"role": "user", "content": "And now?"}]
    again = client().messages.create(model=SONNET, max_tokens=2000, thinking=thinking, messages=turn)
    assert again.content[-1].type == "text"
    changed = json.loads(json.dumps([b.model_dump() for b in first.content]))
    changed[0]["thinking"] += " (edited)"
    turn[1] = {"role": "assistant", "content": changed}
    with pytest.raises(anthropic.BadRequestError) as refused:
        client().messages.create(model=SONNET, max_tokens=2000, thinking=thinking, messages=turn)
    assert "signature" in str(refused.value)


def test_redacted_thinking_round_trips():
    thinking = {"type": "enabled", "budget_tokens": 1024}
    messages = [{"role": "user", "content": REDACTED_TRIGGER}]
    with client().messages.stream(model=SONNET, max_tokens=2000, thinking=thinking, messages=messages) as stream:
        first = stream.get_final_message()
    redacted = [b for b in first.content if b.type == "redacted_thinking"]
    assert len(redacted) == 2 and all(b.data for b in redacted)
    turn = messages + [{"role": "assistant", "content": first.content}, {"role": "user", "content": "Go on"}]
    assert client().messages.create(model=SONNET, max_tokens=2000, thinking=thinking, messages=turn).content


def test_tokens_are_counted_without_running_the_model():
    counted = client().messages.count_tokens(
        model=SONNET, system="Be brief.", messages=[{"role": "user", "content": "Hello there, how are you today?"}]
    )
    assert counted.input_tokens > 0


def test_structured_output_follows_the_schema():
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}
    done = client().messages.create(
        model=SONNET,
        max_tokens=300,
        output_config={"format": {"type": "json_schema", "schema": schema}},
        messages=[{"role": "user", "content": "Where is it warm?"}],
    )
    assert isinstance(json.loads(done.content[0].text)["city"], str)


def test_errors_are_the_sdks_own_exception_classes():
    with pytest.raises(anthropic.AuthenticationError) as e:
        client(api_key="wrong").messages.create(model=SONNET, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert e.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.NotFoundError) as e:
        client().messages.create(model="claude-no-such-model", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError) as e:
        client().messages.create(
            model=SONNET, max_tokens=10, messages=[{"role": "user", "content": "x"}],
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
        )
    assert "web_search_20250305" in e.value.message
    with pytest.raises(anthropic.RateLimitError) as e:
        client().messages.create(
            model=SONNET, max_tokens=10,
            messages=[{"role": "user", "content": scenario({"error": {"type": "ThrottlingException", "status": 429}})}],
        )
    assert e.value.body["error"]["type"] == "rate_limit_error" and e.value.response.headers.get("retry-after")
    with pytest.raises(anthropic.OverloadedError) as e:
        client().messages.create(
            model=SONNET, max_tokens=10,
            messages=[{"role": "user", "content": scenario({"error": {"type": "ServiceUnavailableException", "status": 503}})}],
        )
    assert e.value.body["error"]["type"] == "overloaded_error"


def test_a_failure_mid_stream_is_an_error_event_and_the_text_so_far_is_kept():
    seen = []
    with pytest.raises(anthropic.APIStatusError) as e:
        with client().messages.stream(
            model=SONNET, max_tokens=200,
            messages=[{"role": "user", "content": scenario({"text": "partial answer then a fault", "deltaSize": 4, "fault": {"kind": "exception", "afterEvents": 4, "exception": "modelStreamErrorException"}})}],
        ) as stream:
            for text in stream.text_stream:
                seen.append(text)
    assert "".join(seen) == "partial answ", "text before the failure reached the client"
    assert e.value.body["type"] == "error" and "modelStreamErrorException" in e.value.body["error"]["message"]


def test_models_are_listed_in_anthropics_shape_with_the_aliases():
    ids = [m.id for m in client().models.list()]
    assert SONNET in ids and ALIAS in ids
    assert client().models.retrieve(ALIAS).display_name == "Claude Sonnet 4.5 (us)"


def test_a_content_document_reaches_bedrock_as_chunks_each_cited_on_its_own():
    # Anthropic's content documents are cited chunk by chunk; Bedrock takes them as
    # DocumentSource.content, so the emulator quotes the first chunk alone (a document flattened
    # to one text would be quoted whole).
    reply = client().messages.create(
        model=SONNET,
        max_tokens=200,
        messages=[{"role": "user", "content": [
            {"type": "document", "title": "minutes", "context": "Minutes of the March meeting",
             "citations": {"enabled": True},
             "source": {"type": "content", "content": [
                 {"type": "text", "text": "The budget was approved."},
                 {"type": "text", "text": "The picnic was moved to May."}]}},
            {"type": "text", "text": "What was decided?"},
        ]}],
    )
    said = "".join(block.text for block in reply.content if block.type == "text")
    assert "The budget was approved." in said and "picnic" not in said, said
