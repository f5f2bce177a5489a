// The AWS SDK for JavaScript v3 against the Bedrock emulator, with the SDK's default
// transport: HTTP/2 for bedrock-runtime (NodeHttp2Handler; prior knowledge on http://, ALPN
// on https://), HTTP/1.1 for the control plane. Run by `cargo test -p emulator --test js_sdk`,
// which starts the emulators, sets the variables below and checks afterwards which HTTP
// version each request arrived in.
//
//   EMULATOR_URL, EMULATOR_TLS_URL   plain and HTTPS emulators (same identity)
//   EMULATOR_REGION, EMULATOR_ACCESS_KEY_ID, EMULATOR_SECRET_ACCESS_KEY, EMULATOR_API_KEY
//   NODE_EXTRA_CA_CERTS              the HTTPS emulator's CA (read by Node at start)

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import {
  BedrockClient,
  ListFoundationModelsCommand,
  ListInferenceProfilesCommand,
  paginateListInferenceProfiles,
} from "@aws-sdk/client-bedrock";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through cargo test -p emulator --test js_sdk`);
  return value;
};
// Nothing from the caller's AWS setup may reach the SDK.
for (const name of Object.keys(process.env)) {
  if (name.startsWith("AWS_")) delete process.env[name];
}
const URL = env("EMULATOR_URL");
const TLS_URL = env("EMULATOR_TLS_URL");
const REGION = env("EMULATOR_REGION");
const credentials = {
  accessKeyId: env("EMULATOR_ACCESS_KEY_ID"),
  secretAccessKey: env("EMULATOR_SECRET_ACCESS_KEY"),
};
const API_KEY = env("EMULATOR_API_KEY");
const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
const SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

const runtime = (endpoint = URL, extra = {}) =>
  new BedrockRuntimeClient({ region: REGION, endpoint, credentials, maxAttempts: 1, ...extra });
const control = (endpoint = URL) =>
  new BedrockClient({ region: REGION, endpoint, credentials, maxAttempts: 1 });

const scripted = (scenario, modelId = HAIKU) => ({
  modelId,
  messages: [{ role: "user", content: [{ text: `EMULATOR_SCENARIO ${JSON.stringify(scenario)}` }] }],
});

async function collect(stream) {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
}

test("Converse over HTTP/2 (prior knowledge) with SigV4", async () => {
  const out = await runtime().send(new ConverseCommand(scripted({ text: "Hello from h2." })));
  assert.equal(out.output.message.content[0].text, "Hello from h2.");
  assert.equal(out.stopReason, "end_turn");
  assert.ok(out.usage.inputTokens > 0);
  assert.equal(out.$metadata.httpStatusCode, 200);
});

test("ConverseStream with reasoning and a fragmented tool call", async () => {
  const scenario = {
    reasoning: { text: "Weather needs a tool.", signature: "EqQBCkYIBxgC" },
    text: "Let me check.",
    toolCalls: [{ name: "get_weather", input: { city: "Paris", days: 2 }, fragmentSize: 5 }],
    stopReason: "tool_use",
  };
  const out = await runtime().send(new ConverseStreamCommand(scripted(scenario, SONNET)));
  const events = await collect(out.stream);
  assert.deepEqual(Object.keys(events[0]), ["messageStart"]);
  let reasoning = "", signature = "", text = "", input = "", tool = null, stop = null, usage = null;
  for (const e of events) {
    const d = e.contentBlockDelta?.delta;
    if (d?.reasoningContent?.text) reasoning += d.reasoningContent.text;
    if (d?.reasoningContent?.signature) signature += d.reasoningContent.signature;
    if (d?.text) text += d.text;
    if (d?.toolUse) input += d.toolUse.input;
    if (e.contentBlockStart?.start?.toolUse) tool = e.contentBlockStart.start.toolUse;
    if (e.messageStop) stop = e.messageStop.stopReason;
    if (e.metadata) usage = e.metadata.usage;
  }
  assert.equal(reasoning, "Weather needs a tool.");
  assert.equal(signature, "EqQBCkYIBxgC");
  assert.equal(text, "Let me check.");
  assert.equal(tool.name, "get_weather");
  assert.match(tool.toolUseId, /^tooluse_/);
  assert.deepEqual(JSON.parse(input), { city: "Paris", days: 2 });
  assert.equal(stop, "tool_use");
  assert.ok(usage.outputTokens > 0);
});

test("an unknown model is a ValidationException with the service's message", async () => {
  await assert.rejects(
    runtime().send(new ConverseCommand({ ...scripted({ text: "x" }), modelId: "does-not-exist" })),
    (e) => {
      assert.equal(e.name, "ValidationException");
      assert.equal(e.$metadata.httpStatusCode, 400);
      assert.equal(e.message, "The provided model identifier is invalid.");
      return true;
    },
  );
});

test("an in-stream exception frame surfaces as the modelled exception", async () => {
  const fault = { kind: "exception", afterEvents: 2, exception: "throttlingException" };
  const out = await runtime().send(
    new ConverseStreamCommand(scripted({ text: "abcdefgh", deltaSize: 2, fault })),
  );
  await assert.rejects(collect(out.stream), (e) => {
    assert.equal(e.name, "ThrottlingException");
    assert.ok(e.message.length > 0);
    return true;
  });
});

test("a wrong secret is refused (403) over HTTP/2", async () => {
  const client = runtime(URL, {
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: "wrong-secret" },
  });
  await assert.rejects(client.send(new ConverseCommand(scripted({ text: "x" }))), (e) => {
    assert.equal(e.$metadata.httpStatusCode, 403);
    assert.equal(e.name, "InvalidSignatureException");
    return true;
  });
});

test("ListInferenceProfiles pages are all read by the paginator", async () => {
  const client = control();
  const all = await client.send(new ListInferenceProfilesCommand({ maxResults: 1000 }));
  const paged = [];
  for await (const page of paginateListInferenceProfiles({ client, pageSize: 3 }, {})) {
    paged.push(...page.inferenceProfileSummaries);
  }
  assert.ok(all.inferenceProfileSummaries.length > 3);
  assert.deepEqual(
    paged.map((p) => p.inferenceProfileId),
    all.inferenceProfileSummaries.map((p) => p.inferenceProfileId),
  );
  const models = await client.send(new ListFoundationModelsCommand({ byProvider: "Anthropic" }));
  assert.ok(models.modelSummaries.every((m) => m.providerName === "Anthropic"));
});

test("SigV4 over HTTPS (ALPN h2), the emulator's CA trusted through NODE_EXTRA_CA_CERTS", async () => {
  const out = await runtime(TLS_URL).send(new ConverseCommand(scripted({ text: "Hello over TLS." })));
  assert.equal(out.output.message.content[0].text, "Hello over TLS.");
  const stream = await runtime(TLS_URL).send(new ConverseStreamCommand(scripted({ text: "tls stream" })));
  const text = (await collect(stream.stream))
    .map((e) => e.contentBlockDelta?.delta?.text ?? "")
    .join("");
  assert.equal(text, "tls stream");
});

test("a Bedrock API key (bearer token) over HTTPS, and a wrong one refused", async () => {
  const bearer = (token) =>
    new BedrockRuntimeClient({
      region: REGION,
      endpoint: TLS_URL,
      token: { token },
      authSchemePreference: ["httpBearerAuth"],
      maxAttempts: 1,
    });
  const out = await bearer(API_KEY).send(new ConverseCommand(scripted({ text: "bearer ok" })));
  assert.equal(out.output.message.content[0].text, "bearer ok");
  await assert.rejects(
    bearer("ABSK" + "0".repeat(40)).send(new ConverseCommand(scripted({ text: "x" }))),
    (e) => {
      assert.equal(e.$metadata.httpStatusCode, 403);
      return true;
    },
  );
});
