"""`POST /v1/embeddings` against the official OpenAI Python client (pinned in
requirements.txt), which asks for base64 vectors unless told otherwise.

Driven by gateway/tests/openai_python.rs, which starts `gateway --emulator --port 0` with
a client key and passes GATEWAY_URL and GATEWAY_KEY.
"""

import math
import os

import openai
import pytest

URL = os.environ["GATEWAY_URL"]
KEY = os.environ["GATEWAY_KEY"]
TITAN = "amazon-bedrock/amazon.titan-embed-text-v2:0"
COHERE = "amazon-bedrock/cohere.embed-english-v3"
NOVA = "amazon-bedrock/amazon.nova-micro-v1:0"


def client(key=KEY):
    return openai.OpenAI(base_url=URL, api_key=key, max_retries=0)


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_embedding_models_are_listed_with_the_chat_models():
    models = {m.id: m for m in client().models.list()}
    assert TITAN in models and COHERE in models and NOVA in models
    assert models[TITAN].model_extra["kind"] == "embedding"


def test_a_string_is_embedded_and_the_client_decodes_its_base64_vector():
    done = client().embeddings.create(model=TITAN, input="hello world")
    assert len(done.data) == 1 and len(done.data[0].embedding) == 1024
    assert abs(math.sqrt(sum(v * v for v in done.data[0].embedding)) - 1.0) < 1e-3
    assert done.usage.prompt_tokens > 0 and done.usage.total_tokens == done.usage.prompt_tokens
    assert done.model == TITAN


def test_a_list_comes_back_in_order_with_the_dimensions_asked_for():
    texts = ["the cat sat on the mat", "quarterly revenue grew", "a cat on a mat"]
    done = client().embeddings.create(model=TITAN, input=texts, dimensions=256, encoding_format="float")
    assert [d.index for d in done.data] == [0, 1, 2]
    vectors = [d.embedding for d in done.data]
    assert all(len(v) == 256 for v in vectors)
    assert cosine(vectors[0], vectors[2]) > cosine(vectors[0], vectors[1])
    alone = client().embeddings.create(model=TITAN, input=texts[1], dimensions=256, encoding_format="float")
    assert alone.data[0].embedding == pytest.approx(vectors[1], abs=1e-6)


def test_cohere_takes_a_search_purpose_and_more_texts_than_one_call_holds():
    texts = [f"passage {i}" for i in range(120)]
    done = client().embeddings.create(model=COHERE, input=texts, extra_body={"input_type": "search_query"})
    assert len(done.data) == 120 and len(done.data[119].embedding) == 1024


def test_token_arrays_and_options_a_model_lacks_are_refused_clearly():
    with pytest.raises(openai.BadRequestError, match="token arrays"):
        client().embeddings.create(model=TITAN, input=[[1, 2, 3]])
    with pytest.raises(openai.BadRequestError, match=r"\[256, 512, 1024\]"):
        client().embeddings.create(model=TITAN, input="x", dimensions=300)
    with pytest.raises(openai.NotFoundError, match="not an embedding model"):
        client().embeddings.create(model=NOVA, input="x")


def test_a_key_limited_to_other_models_may_not_embed():
    with pytest.raises(openai.PermissionDeniedError):
        client(key="limited-key").embeddings.create(model=TITAN, input="x")
