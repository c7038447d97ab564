// The Node clients of VM-X's client-compatibility suite, unchanged: openai, @anthropic-ai/sdk, and the
// Vercel AI SDK (ai + @ai-sdk/openai + @ai-sdk/anthropic). One process runs every case against every
// resource and prints one JSON line per case: {"name", "ok", "error"}. Driven by
// tests/clients/test_node_clients.py, which starts the gateway and the fake upstream.
//
// Env: VMX_BASE_URL (…/v1/completion/{ws}/{env}), VMX_KEY, VMX_HELLO (JSON {resource: expected text}).
import Anthropic from "@anthropic-ai/sdk";
import { zodOutputFormat } from "@anthropic-ai/sdk/helpers/zod";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { generateObject, generateText, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";

const BASE = process.env.VMX_BASE_URL;
const KEY = process.env.VMX_KEY;
const HELLO = JSON.parse(process.env.VMX_HELLO || "{}");
const QUESTION = "What's the weather in Paris?";
const RESULT = "21 degrees and sunny";
const Weather = z.object({ city: z.string(), temperature: z.number() });
const PARAMS = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };

const openai = new OpenAI({ baseURL: BASE, apiKey: KEY, maxRetries: 0 });
const anthropic = new Anthropic({ baseURL: `${BASE}/anthropic`, apiKey: KEY, maxRetries: 0 });
const aiOpenAI = createOpenAI({ baseURL: BASE, apiKey: KEY });
const aiAnthropic = createAnthropic({ baseURL: `${BASE}/anthropic/v1`, apiKey: KEY });

function equal(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

function weather({ city }) {
  equal(city, "Paris", "tool input");
  return RESULT;
}

// ---- openai ------------------------------------------------------------------------------------------

async function openaiRoundTrip(model, extra = {}) {
  const tools = [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: PARAMS } }];
  const messages = [{ role: "user", content: QUESTION }];
  const first = await openai.chat.completions.create({ model, messages, tools, ...extra });
  const call = first.choices[0].message.tool_calls[0];
  equal(JSON.parse(call.function.arguments), { city: "Paris" }, "arguments");
  messages.push({ role: "assistant", content: null, tool_calls: [call] },
    { role: "tool", tool_call_id: call.id, content: weather(JSON.parse(call.function.arguments)) });
  const second = await openai.chat.completions.create({ model, messages, tools, ...extra });
  equal(second.choices[0].message.content, HELLO[model], "final answer");
}

const OPENAI = {
  text: async (model) => {
    const out = await openai.chat.completions.create({ model, messages: [{ role: "user", content: "Hello!" }] });
    equal(out.choices[0].message.content, HELLO[model], "chat text");
    equal((await openai.responses.create({ model, input: "Hello!" })).output_text, HELLO[model], "responses text");
  },
  streaming: async (model) => {
    const stream = await openai.chat.completions.create({ model, messages: [{ role: "user", content: "Hello!" }], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    equal(text, HELLO[model], "streamed text");
  },
  tools: (model) => openaiRoundTrip(model),
  structured: async (model) => {
    const out = await openai.chat.completions.parse({ model, messages: [{ role: "user", content: "Weather?" }],
      response_format: zodResponseFormat(Weather, "weather") });
    equal(out.choices[0].message.parsed, { city: "Paris", temperature: 21.5 }, "parsed");
  },
  reasoning_tools: (model) => openaiRoundTrip(model, { reasoning_effort: "low" }),
};

// ---- @anthropic-ai/sdk -------------------------------------------------------------------------------

async function anthropicRoundTrip(model, extra = {}) {
  const tools = [{ name: "get_weather", description: "Weather", input_schema: PARAMS }];
  const messages = [{ role: "user", content: QUESTION }];
  const first = await anthropic.messages.create({ model, max_tokens: 4096, messages, tools, ...extra });
  const call = first.content.find((b) => b.type === "tool_use");
  messages.push({ role: "assistant", content: first.content },
    { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: weather(call.input) }] });
  const second = await anthropic.messages.create({ model, max_tokens: 4096, messages, tools, ...extra });
  equal(second.content.at(-1).text, HELLO[model], "final answer");
}

const ANTHROPIC = {
  text: async (model) => {
    const out = await anthropic.messages.create({ model, max_tokens: 1024, messages: [{ role: "user", content: "Hello!" }] });
    equal(out.content[0].text, HELLO[model], "text");
  },
  streaming: async (model) => {
    const stream = anthropic.messages.stream({ model, max_tokens: 1024, messages: [{ role: "user", content: "Hello!" }] });
    let text = "";
    stream.on("text", (t) => { text += t; });
    await stream.finalMessage();
    equal(text, HELLO[model], "streamed text");
  },
  tools: (model) => anthropicRoundTrip(model),
  structured: async (model) => {
    const out = await anthropic.messages.parse({ model, max_tokens: 1024, messages: [{ role: "user", content: "Weather?" }],
      output_config: { format: zodOutputFormat(Weather) } });
    equal(out.parsed_output, { city: "Paris", temperature: 21.5 }, "parsed");
  },
  reasoning_tools: (model) => anthropicRoundTrip(model, { thinking: { type: "enabled", budget_tokens: 1024 } }),
};

// ---- Vercel AI SDK ------------------------------------------------------------------------------------

const aiTools = { get_weather: tool({ description: "Weather", inputSchema: z.object({ city: z.string() }), execute: weather }) };

function aiSdk(provider, model) {
  return provider === "openai" ? aiOpenAI.chat(model) : aiAnthropic(model);
}

const REASONING = {
  openai: { openai: { reasoningEffort: "low" } },
  anthropic: { anthropic: { thinking: { type: "enabled", budgetTokens: 1024 } } },
};

function vercel(provider) {
  return {
    text: async (model) => equal((await generateText({ model: aiSdk(provider, model), prompt: "Hello!" })).text,
      HELLO[model], "text"),
    streaming: async (model) => {
      const result = streamText({ model: aiSdk(provider, model), prompt: "Hello!" });
      let text = "";
      for await (const part of result.textStream) text += part;
      equal(text, HELLO[model], "streamed text");
    },
    tools: async (model) => {
      const out = await generateText({ model: aiSdk(provider, model), prompt: QUESTION, tools: aiTools, stopWhen: stepCountIs(3) });
      equal(out.text, HELLO[model], "final answer");
    },
    structured: async (model) => {
      const out = await generateObject({ model: aiSdk(provider, model), schema: Weather, prompt: "Weather?" });
      equal(out.object, { city: "Paris", temperature: 21.5 }, "object");
    },
    reasoning_tools: async (model) => {
      const out = await generateText({ model: aiSdk(provider, model), prompt: QUESTION, tools: aiTools,
        stopWhen: stepCountIs(3), providerOptions: REASONING[provider] });
      equal(out.text, HELLO[model], "final answer");
    },
  };
}

const CLIENTS = { openai: OPENAI, "anthropic-sdk": ANTHROPIC, "ai-sdk-openai": vercel("openai"), "ai-sdk-anthropic": vercel("anthropic") };

for (const [client, cases] of Object.entries(CLIENTS)) {
  for (const model of Object.keys(HELLO)) {
    for (const [name, run] of Object.entries(cases)) {
      const id = `${client}-${name}-${model}`;
      try {
        await run(model);
        console.log(JSON.stringify({ name: id, ok: true }));
      } catch (err) {
        console.log(JSON.stringify({ name: id, ok: false, error: String(err?.stack || err).slice(0, 2000) }));
      }
    }
  }
}
