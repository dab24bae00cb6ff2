// Renders every conversation below with every template through @huggingface/jinja (what transformers.js's
// apply_chat_template runs) and writes ../../resources/chat/goldens.json for ChatTemplateGoldenTest.
//
//   npm ci && node make-goldens.mjs [path/to/shared/models/tokenizers]
//
// Templates: the three of ../shared/models/tokenizers (read from there; the path defaults to the one beside the
// repository) and those of ../../resources/chat/templates.json (see extract-templates.mjs).
// The variables are apply_chat_template's: messages, add_generation_prompt, tools and documents (null), the special
// tokens that are set (all of a shared tokenizer_config.json's; bos/eos of templates.json's), then the conversation's
// extra variables. strftime_now sees a fixed clock, 2025-03-07 09:05 UTC.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

process.env.TZ = "UTC";
const FIXED_NOW = Date.UTC(2025, 2, 7, 9, 5, 0);
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...args) {
    super(...(args.length === 0 ? [FIXED_NOW] : args));
  }
  static now() {
    return FIXED_NOW;
  }
};

const { Template, Environment } = await import("@huggingface/jinja");

// raise_exception's error is told apart from the engine's own errors (undefined members and the like).
class TemplateRaised extends Error {}
const setVariable = Environment.prototype.set;
Environment.prototype.set = function (name, value) {
  if (name === "raise_exception") {
    value = (message) => {
      throw new TemplateRaised(String(message));
    };
  }
  return setVariable.call(this, name, value);
};

const here = dirname(fileURLToPath(import.meta.url));
const resources = join(here, "..", "..", "resources", "chat");
const sharedDir = resolve(process.argv[2] ?? join(here, "..", "..", "..", "..", "..", "..", "shared", "models", "tokenizers"));

function tokenText(token) {
  return token && typeof token === "object" ? token.content : token ?? null;
}

// apply_chat_template passes every special token the tokenizer has set.
const SPECIAL_TOKENS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

function sharedTemplate(name) {
  const config = JSON.parse(readFileSync(join(sharedDir, name, "tokenizer_config.json"), "utf8"));
  const special_tokens = {};
  for (const token of SPECIAL_TOKENS) {
    if (tokenText(config[token]) != null) special_tokens[token] = tokenText(config[token]);
  }
  return { id: name, special_tokens, chat_template: config.chat_template };
}

const templates = [
  sharedTemplate("llama3-instruct"),
  sharedTemplate("qwen3"),
  ...JSON.parse(readFileSync(join(resources, "templates.json"), "utf8")).templates,
];

const system = (content) => ({ role: "system", content });
const user = (content) => ({ role: "user", content });
const assistant = (content) => ({ role: "assistant", content });
const SYSTEM = "You are a helpful assistant.";
const THOUGHT = "<think>\nI add two and two.\n</think>\n\nThe answer is 4.";

// Each conversation is rendered with add_generation_prompt true and false, unless `generation` says otherwise.
const conversations = [
  { id: "user", messages: [user("Hello, how are you?")] },
  { id: "system_user", messages: [system(SYSTEM), user("What is 2+2?")] },
  {
    id: "multi_turn",
    messages: [system(SYSTEM), user("Hi!"), assistant("Hello! How can I help you today?"), user("Tell me a joke.")],
  },
  { id: "multi_turn_no_system", messages: [user("Hi!"), assistant("Hello!"), user("What's the weather like?")] },
  { id: "ends_with_assistant", messages: [user("Say hi."), assistant("Hi there!")], generation: [false] },
  {
    id: "long",
    messages: [
      system(SYSTEM),
      user("Name a colour."),
      assistant("Blue."),
      user("Another one."),
      assistant("Green."),
      user("And a third?"),
      assistant("Red."),
      user("Thanks!"),
    ],
    generation: [true],
  },
  { id: "think_history", messages: [user("What is 2+2?"), assistant(THOUGHT), user("And 3+3?")] },
  { id: "think_last", messages: [user("What is 2+2?"), assistant(THOUGHT)], generation: [false] },
  { id: "enable_thinking_true", messages: [user("Solve x+1=2.")], extra: { enable_thinking: true }, generation: [true] },
  { id: "enable_thinking_false", messages: [user("Solve x+1=2.")], extra: { enable_thinking: false } },
  {
    id: "enable_thinking_false_multi",
    messages: [system(SYSTEM), user("Hi"), assistant(THOUGHT), user("Bye")],
    extra: { enable_thinking: false },
    generation: [true],
  },
  { id: "unicode", messages: [user("Grüße aus Köln! 你好，世界 🚀 — naïve café, ½ ≠ ∞, עברית")], generation: [true] },
  {
    id: "special_tokens_in_content",
    messages: [
      system("Never print <|im_end|> or </s>."),
      user("Repeat: <s>[INST] <|eot_id|><|start_header_id|>user<|end_header_id|> {{ raw }} {% if x %} <think>"),
    ],
    generation: [true],
  },
  {
    id: "whitespace",
    messages: [user("  padded, with\nnewlines\n\n"), assistant(" ok "), user("\tnext\t")],
    generation: [true],
  },
  { id: "empty_content", messages: [user("")], generation: [true] },
  { id: "empty_assistant", messages: [user("Hi"), assistant(""), user("Still there?")], generation: [true] },
  { id: "invalid_alternation", messages: [user("First."), user("Second.")], generation: [true] },
  { id: "assistant_first", messages: [assistant("I start."), user("OK.")], generation: [true] },
  { id: "system_only", messages: [system(SYSTEM)], generation: [true] },
  {
    id: "tool_results",
    messages: [
      system(SYSTEM),
      user("What's the weather in Paris and in Rome?"),
      assistant("I will look both up."),
      { role: "tool", content: '{"city": "Paris", "temperature": 21}' },
      { role: "tool", content: '{"city": "Rome", "temperature": 25}' },
      user("Which is warmer?"),
    ],
    generation: [true],
  },
  { id: "date_string", messages: [user("What day is it?")], extra: { date_string: "14 Mar 2025" }, generation: [true] },
  {
    id: "text_parts",
    messages: [
      system([{ type: "text", text: SYSTEM }]),
      { role: "user", content: [{ type: "text", text: "Describe " }, { type: "text", text: "the sky." }] },
    ],
    generation: [true],
  },
];

// Random conversations (fixed seed): roles mostly alternating, content pieced from text that templates trip on.
function randomConversations(count) {
  let seed = 20250307;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0; // mulberry32
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (list) => list[Math.floor(random() * list.length)];
  const pieces = ["Hello", " world", "\n", "\n\n", "  ", "\t", "'quote'", '"dq"', "\\", "\\n", "{{ x }}", "{% if %}",
    "{#c#}", "<think>", "</think>", "<|im_end|>", "</s>", "[INST]", "é", "日本", "🚀", "\u00a0", "a.b", "x: y", "", "\r\n",
    "%s", "{}", "None", "true"];
  const extras = [{}, { enable_thinking: false }, { enable_thinking: true }, { date_string: "1 Jan 2025" }];
  return Array.from({ length: count }, (_, i) => {
    const start = random() < 0.3 ? 1 : 0;
    const messages = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, j) => {
      const role = j === 0 && random() < 0.4 ? "system"
        : random() < 0.85 ? ["user", "assistant"][(j + start) % 2] : pick(["system", "user", "assistant", "tool"]);
      // @huggingface/jinja 0.5.11 ignores the argument of strip/lstrip/rstrip (it strips all whitespace), and
      // Qwen-style templates lstrip('\n') an assistant's text and strip('\n') its reasoning: so no assistant text
      // starts with other whitespace, and text with a think tag has none. (Python's behaviour there is in the
      // whitespace case against Jinja2 and in ChatTemplateJinjaTest.)
      let content = Array.from({ length: Math.floor(random() * 7) }, () => pick(pieces)).join("");
      if (role === "assistant") content = content.replace(/^[ \t\r\u00a0]+/, "");
      if (content.includes("think>")) content = content.replace(/[ \t\r\u00a0]+/g, "");
      return { role, content };
    });
    return { id: `random_${i}`, messages, extra: pick(extras), generation: [random() < 0.6] };
  });
}
conversations.push(...randomConversations(16));

const cases = conversations.flatMap((c) =>
  (c.generation ?? [true, false]).map((generation) => ({
    id: `${c.id}${generation ? "+gen" : ""}`,
    messages: c.messages,
    add_generation_prompt: generation,
    extra: c.extra ?? {},
  })),
);

function render(template, c) {
  const variables = { messages: structuredClone(c.messages), add_generation_prompt: c.add_generation_prompt, tools: null, documents: null };
  const tokens = template.special_tokens ?? { bos_token: template.bos_token, eos_token: template.eos_token };
  for (const [name, value] of Object.entries(tokens)) {
    if (value != null) variables[name] = value;
  }
  Object.assign(variables, c.extra);
  try {
    const expected = new Template(template.chat_template).render(variables);
    if (c.messages.some((m) => Array.isArray(m.content)) && expected.includes('"type": "text"')) {
      // Jinja2 raises a TypeError on str + list (or writes the list's repr); @huggingface/jinja writes JSON.
      return { oracle_error: "a list of content parts concatenated into the text", oracle_text: expected };
    }
    return { expected };
  } catch (e) {
    return e instanceof TemplateRaised ? { raised: e.message } : { oracle_error: String(e.message ?? e) };
  }
}

const renders = [];
for (const template of templates) {
  for (const c of cases) {
    renders.push({ template: template.id, case: c.id, ...render(template, c) });
  }
}
const out = join(resources, "goldens.json");
const oracle = { engine: "@huggingface/jinja", version: JSON.parse(readFileSync(join(here, "node_modules", "@huggingface", "jinja", "package.json"), "utf8")).version };
writeFileSync(out, JSON.stringify({ oracle, fixed_now: new RealDate(FIXED_NOW).toISOString(), cases, renders }, null, 1) + "\n");
const count = (key) => renders.filter((r) => key in r).length;
console.log(`wrote ${renders.length} renders of ${templates.length} templates x ${cases.length} cases to ${out}: ` +
  `${count("expected")} texts, ${count("raised")} raise_exception, ${count("oracle_error")} engine errors`);
