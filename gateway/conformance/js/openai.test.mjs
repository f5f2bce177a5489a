// The gateway against the official OpenAI client for JavaScript (pinned in package.json),
// under node's test runner. Driven by gateway/tests/openai_js.rs, which starts
// `gateway --emulator --port 0` with a client key and passes GATEWAY_URL and GATEWAY_KEY.

import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";

const URL = process.env.GATEWAY_URL;
const KEY = process.env.GATEWAY_KEY;
const NOVA = "amazon-bedrock/amazon.nova-micro-v1:0";
const SONNET = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

const client = (apiKey = KEY) => new OpenAI({ baseURL: URL, apiKey, maxRetries: 0 });
const scenario = (script) => "EMULATOR_SCENARIO " + JSON.stringify(script);

test("models are listed as provider/model", async () => {
  const ids = [];
  for await (const model of client().models.list()) ids.push(model.id);
  assert.ok(ids.includes(NOVA) && ids.includes(SONNET), ids.join(", "));
});

test("a completion, and a streamed one with usage", async () => {
  const done = await client().chat.completions.create({
    model: NOVA,
    messages: [{ role: "user", content: "Hello there" }],
  });
  assert.match(done.choices[0].message.content, /You said: Hello there\./);
  const stream = await client().chat.completions.create({
    model: NOVA,
    messages: [{ role: "user", content: scenario({ text: "in pieces", deltaSize: 2 }) }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let usage = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, "in pieces");
  assert.ok(usage.total_tokens > 0);
});

test("a tool round trip", async () => {
  const tools = [{
    type: "function",
    function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
  }];
  const messages = [{ role: "user", content: scenario({ toolCalls: [{ name: "get_weather", input: { city: "Oslo" } }] }) }];
  const first = await client().chat.completions.create({ model: SONNET, messages, tools });
  const call = first.choices[0].message.tool_calls[0];
  assert.equal(first.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(JSON.parse(call.function.arguments), { city: "Oslo" });
  messages.push(first.choices[0].message);
  messages.push({ role: "tool", tool_call_id: call.id, content: "Sunny" });
  const second = await client().chat.completions.create({ model: SONNET, messages, tools });
  assert.equal(second.choices[0].finish_reason, "stop");
});

test("structured output", async () => {
  const schema = {
    type: "object",
    properties: { name: { type: "string" }, age: { type: "integer" } },
    required: ["name", "age"],
    additionalProperties: false,
  };
  const done = await client().chat.completions.create({
    model: SONNET,
    messages: [{ role: "user", content: "A person" }],
    response_format: { type: "json_schema", json_schema: { name: "person", schema } },
  });
  const person = JSON.parse(done.choices[0].message.content);
  assert.equal(typeof person.age, "number");
});

test("errors have their status", async () => {
  await assert.rejects(client("wrong").models.list(), (e) => e.status === 401);
  await assert.rejects(
    client().chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
    (e) => e.status === 404,
  );
  await assert.rejects(client().chat.completions.create({ model: NOVA, messages: [] }), (e) => e.status === 400);
  await assert.rejects(
    client().chat.completions.create({
      model: NOVA,
      messages: [{ role: "user", content: scenario({ error: { type: "ThrottlingException", status: 429 } }) }],
    }),
    (e) => e.status === 429,
  );
});

test("responses: whole, and streamed with OpenAI's events in order", async () => {
  const done = await client().responses.create({ model: NOVA, input: "Hello there", store: false });
  assert.match(done.output_text, /You said: Hello there\./);
  const stream = await client().responses.create({
    model: SONNET,
    input: scenario({ text: "in pieces", deltaSize: 2 }),
    stream: true,
  });
  const kinds = [];
  let text = "";
  let final = null;
  for await (const event of stream) {
    kinds.push(event.type);
    if (event.type === "response.output_text.delta") text += event.delta;
    if (event.type === "response.completed") final = event.response;
  }
  assert.equal(text, "in pieces");
  assert.equal(kinds[0], "response.created");
  assert.equal(final.output_text ?? final.output[0].content[0].text, "in pieces");
});

test("responses: a function call round trip", async () => {
  const tools = [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];
  const first = await client().responses.create({
    model: SONNET,
    input: scenario({ toolCalls: [{ name: "get_weather", input: { city: "Oslo" } }] }),
    tools,
  });
  const call = first.output.find((item) => item.type === "function_call");
  assert.deepEqual(JSON.parse(call.arguments), { city: "Oslo" });
  const second = await client().responses.create({
    model: SONNET,
    tools,
    input: [
      { role: "user", content: "weather?" },
      { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: "function_call_output", call_id: call.call_id, output: "Sunny" },
    ],
  });
  assert.equal(second.status, "completed");
});

test("responses: stateless refusals are the SDK's BadRequestError", async () => {
  await assert.rejects(
    client().responses.create({ model: NOVA, input: "hi", previous_response_id: "resp_1" }),
    (e) => e instanceof OpenAI.BadRequestError && /whole conversation/.test(e.message),
  );
});

test("responses: structured output, and reasoning carried to the next turn", async () => {
  const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };
  const structured = await client().responses.create({
    model: SONNET,
    input: "Where is it warm?",
    text: { format: { type: "json_schema", name: "place", schema, strict: true } },
  });
  assert.equal(typeof JSON.parse(structured.output_text).city, "string");
  const asked = { model: SONNET, reasoning: { effort: "low", summary: "auto" }, include: ["reasoning.encrypted_content"], store: false };
  const first = await client().responses.create({ ...asked, input: "Think first" });
  const reasoning = first.output.find((item) => item.type === "reasoning");
  assert.ok(reasoning.summary[0].text && reasoning.encrypted_content);
  const again = await client().responses.create({
    ...asked,
    input: [{ role: "user", content: "Think first" }, ...first.output, { role: "user", content: "And now?" }],
  });
  assert.equal(again.status, "completed");
});

test("embeddings: base64 by default, floats on request, in order, refusals named", async () => {
  const TITAN = "amazon-bedrock/amazon.titan-embed-text-v2:0";
  const done = await client().embeddings.create({ model: TITAN, input: ["first text", "second text"] });
  assert.deepEqual(done.data.map((d) => d.index), [0, 1]);
  assert.equal(done.data[0].embedding.length, 1024);
  assert.ok(done.usage.prompt_tokens > 0);
  const floats = await client().embeddings.create({
    model: TITAN, input: "second text", dimensions: 512, encoding_format: "float",
  });
  assert.equal(floats.data[0].embedding.length, 512);
  await assert.rejects(
    client().embeddings.create({ model: TITAN, input: [[1, 2]] }),
    (e) => e.status === 400 && /token arrays/.test(e.message),
  );
});
