// The gateway's Messages dialect against the official Anthropic client for JavaScript
// (pinned in package.json), under node's test runner. Driven by
// gateway/tests/anthropic_js.rs, which starts `gateway --emulator --port 0` with a client key
// and an alias, and passes GATEWAY_ROOT (the URL without /v1) and GATEWAY_KEY.

import assert from "node:assert/strict";
import { test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";

const ROOT = process.env.GATEWAY_ROOT;
const KEY = process.env.GATEWAY_KEY;
const SONNET = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";

const client = () => new Anthropic({ baseURL: ROOT, apiKey: KEY, maxRetries: 0 });
const scenario = (script) => "EMULATOR_SCENARIO " + JSON.stringify(script);

test("messages.create through an alias", async () => {
  const done = await client().messages.create({
    model: "claude-sonnet-4-5",
    max_tokens: 100,
    messages: [{ role: "user", content: "Hello there" }],
  });
  assert.match(done.content[0].text, /You said: Hello there\./);
  assert.equal(done.stop_reason, "end_turn");
});

test("messages.stream: text in pieces, then the final message", async () => {
  const stream = client().messages.stream({
    model: SONNET,
    max_tokens: 100,
    messages: [{ role: "user", content: scenario({ text: "in pieces", deltaSize: 2 }) }],
  });
  const pieces = [];
  stream.on("text", (text) => pieces.push(text));
  const final = await stream.finalMessage();
  assert.equal(pieces.join(""), "in pieces");
  assert.equal(final.content[0].text, "in pieces");
  assert.ok(final.usage.output_tokens > 0);
});

test("a tool round trip, and thinking sent back in the next turn", async () => {
  const tools = [{ name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }];
  const thinking = { type: "enabled", budget_tokens: 1024 };
  const messages = [{ role: "user", content: scenario({ reasoning: { text: "I should look it up." }, toolCalls: [{ name: "get_weather", input: { city: "Oslo" } }] }) }];
  const first = await client().messages.stream({ model: SONNET, max_tokens: 2000, thinking, tools, messages }).finalMessage();
  const call = first.content.find((b) => b.type === "tool_use");
  assert.deepEqual(call.input, { city: "Oslo" });
  assert.equal(first.content[0].type, "thinking");
  messages.push({ role: "assistant", content: first.content });
  messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "Sunny" }] });
  const second = await client().messages.create({ model: SONNET, max_tokens: 2000, thinking, tools, messages });
  assert.equal(second.stop_reason, "end_turn");
});

test("countTokens", async () => {
  const counted = await client().messages.countTokens({ model: SONNET, messages: [{ role: "user", content: "Hello there" }] });
  assert.ok(counted.input_tokens > 0);
});

test("errors are the SDK's own classes", async () => {
  await assert.rejects(
    new Anthropic({ baseURL: ROOT, apiKey: "wrong", maxRetries: 0 }).messages.create({ model: SONNET, max_tokens: 10, messages: [{ role: "user", content: "x" }] }),
    (e) => e instanceof Anthropic.AuthenticationError,
  );
  await assert.rejects(
    client().messages.create({ model: "claude-no-such-model", max_tokens: 10, messages: [{ role: "user", content: "x" }] }),
    (e) => e instanceof Anthropic.NotFoundError && e.error?.error?.type === "not_found_error",
  );
});
