// The official OpenAI client for JavaScript against the emulator's OpenAI-compatible
// Responses API (Bedrock's /openai/v1/responses on Mantle), as AWS's guides point it at
// Mantle: a Bedrock API key as the client's key, or every request signed with SigV4 for
// `bedrock-mantle` by the AWS JS SDK's own signer (@smithy/signature-v4). Run by
// `cargo test -p emulator --test js_sdk` with the variables of conformance.test.mjs.

import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac } from "node:crypto";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through cargo test -p emulator --test js_sdk`);
  return value;
};
const URL = env("EMULATOR_URL");
const GPT = "openai.gpt-5.5";
const scenario = (script) => "EMULATOR_SCENARIO " + JSON.stringify(script);

// The hash the signer asks for, from Node's own crypto (HMAC when given a key).
class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac("sha256", secret) : createHash("sha256");
  }
  update(data) {
    this.hash.update(typeof data === "string" ? Buffer.from(data) : data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

const keyed = (path = "/openai/v1") =>
  new OpenAI({ baseURL: URL + path, apiKey: env("EMULATOR_API_KEY"), maxRetries: 0 });

// Every request signed for `service` before it leaves, as @aws-sdk/* clients sign theirs.
const signed = (service) => {
  const signer = new SignatureV4({
    service,
    region: env("EMULATOR_REGION"),
    credentials: {
      accessKeyId: env("EMULATOR_ACCESS_KEY_ID"),
      secretAccessKey: env("EMULATOR_SECRET_ACCESS_KEY"),
    },
    sha256: Sha256,
  });
  const signingFetch = async (url, init) => {
    const target = new globalThis.URL(url);
    const body = typeof init.body === "string" ? init.body : undefined;
    const request = await signer.sign({
      method: init.method,
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      headers: { host: target.host, "content-type": "application/json" },
      body,
    });
    const headers = new Headers(init.headers);
    headers.delete("authorization");
    for (const [name, value] of Object.entries(request.headers)) {
      if (name !== "host") headers.set(name, value);
    }
    return fetch(url, { ...init, headers });
  };
  return new OpenAI({ baseURL: URL + "/openai/v1", apiKey: "unused", maxRetries: 0, fetch: signingFetch });
};

test("a streamed response with a Bedrock API key has OpenAI's events in order", async () => {
  const stream = keyed().responses.stream({
    model: GPT,
    input: [{ role: "user", content: [{ type: "input_text", text: scenario({ text: "streamed words", deltaSize: 3 }) }] }],
    reasoning: { effort: "low", summary: "auto" },
    include: ["reasoning.encrypted_content"],
    store: false,
  });
  const kinds = [];
  for await (const event of stream) kinds.push(event.type);
  const final = await stream.finalResponse();
  assert.equal(kinds[0], "response.created");
  assert.equal(kinds.at(-1), "response.completed");
  assert.ok(kinds.includes("response.reasoning_summary_text.delta"));
  assert.equal(final.output_text, "streamed words");
  assert.ok(final.usage.output_tokens_details.reasoning_tokens > 0);
});

test("a request signed for bedrock-mantle is answered, and its reasoning goes back", async () => {
  const client = signed("bedrock-mantle");
  const first = await client.responses.create({
    model: GPT,
    input: "Hello there",
    reasoning: { effort: "medium" },
    include: ["reasoning.encrypted_content"],
    store: false,
  });
  assert.equal(first.status, "completed");
  assert.match(first.output_text, /You said: Hello there\./);
  const second = await client.responses.create({
    model: GPT,
    input: [{ role: "user", content: "Hello there" }, ...first.output, { role: "user", content: "And again" }],
    store: false,
  });
  assert.match(second.output_text, /You said: And again\./);
});

test("what Bedrock refuses is refused in OpenAI's shape", async () => {
  await assert.rejects(keyed("/v1").responses.create({ model: GPT, input: "hi" }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.match(e.message, /does not support the '\/v1\/responses' API/);
    return true;
  });
  await assert.rejects(keyed().responses.create({ model: GPT, input: "hi", temperature: 0.5 }), OpenAI.BadRequestError);
  await assert.rejects(signed("bedrock").responses.create({ model: GPT, input: "hi", stream: true }), OpenAI.BadRequestError);
});
