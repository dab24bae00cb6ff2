// Golden data for HfTokenizer: what Hugging Face's own JavaScript implementation (transformers.js, pinned in
// package.json) makes of a broad corpus with the three real tokenizer.json files in ../shared/models/tokenizers.
//
//   cd gpu-operator/src/test/goldens && npm install --ignore-scripts && node make-goldens.mjs [TOKENIZERS_DIR]
//
// (--ignore-scripts: the ONNX runtime's install script downloads binaries; tokenizers need none of it.)
// Writes ../resources/tokenizer-goldens/<name>.json, one per tokenizer:
//   { tokenizer, transformers_js, cases: [{text, ids, ids_special, decoded, decoded_special}],
//     random_decodes: [{ids, decoded, decoded_special}] }
// ids: encode(text, {add_special_tokens: false}); ids_special: the same with the post-processor (BOS...);
// decoded: decode(ids_special, {skip_special_tokens: true}); decoded_special: the same keeping them;
// both without clean_up_tokenization_spaces (a lossless decode). random_decodes: decodes of random ids,
// byte tokens and special tokens among them, for what decoding makes of ids no encode would give.
import { AutoTokenizer, env } from "@huggingface/transformers";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../../../..");
const tokenizersDir = resolve(process.argv[2] ?? join(repoRoot, "../shared/models/tokenizers"));
const outDir = join(here, "../resources/tokenizer-goldens");
const NAMES = ["llama3-instruct", "qwen3", "mistral"];
const version = JSON.parse(readFileSync(join(here, "node_modules/@huggingface/transformers/package.json"))).version;

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = tokenizersDir + "/";

/** A small deterministic generator (mulberry32), so the corpus is the same on every run. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus() {
  const texts = [
    "", " ", "  ", "a", "Hello", "Hello world", " Hello world", "Hello world ", "Hello  world",
    "The quick brown fox jumps over the lazy dog.",
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
    "I'm sure they'll say it's fine, but we've seen what you'd do. DON'T, WON'T, I'M, YOU'RE, THEY'VE.",
    "Mr. O'Neil's cat's toy isn't here; it's 'quoted' and \"double-quoted\".",
    "hello\nworld", "hello\n\nworld", "line one\r\nline two\r\n", "tab\tseparated\tvalues\t", "\t\t\tindented",
    "trailing spaces   ", "   leading spaces", "many      spaces      between", "\n", "\n\n\n", "\r\n", " \n ",
    "mixed \t \n \r\n whitespace \u000b\u000c end",
    "next\u0085line", "\u0085", "a\u0085\u0085b", "no\u00a0break\u00a0space", "\u00a0\u00a0", "ideographic\u3000space\u3000",
    "\u3000", "en\u2002em\u2003thin\u2009hair\u200a", "zero\u200bwidth\u200cjoiner\u200d", "line\u2028para\u2029sep", "bom\ufeffinside",
    "0", "7", "42", "123", "1234", "12345", "123456", "1234567", "12345678901234567890", "3.14159", "1,000,000",
    "-17 +42 1e10 0x1F 0b1010", "2024-01-15T10:30:00Z", "v1.2.3", "٣٤٥ ١٢ arabic-indic digits", "²³¹ ½ ¾ superscripts",
    "Ⅻ roman numeral", "①②③ circled",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }\n",
    "#include <stdio.h>\nint main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    "{\"name\": \"streaminfer\", \"values\": [1, 2, 3], \"nested\": {\"ok\": true, \"none\": null}}",
    "SELECT id, COUNT(*) FROM t WHERE x >= 10 GROUP BY id;", "<div class=\"a\">&amp; &lt;tag&gt;</div>",
    "https://example.com/path?query=1&b=two#frag", "user@example.org", "snake_case_name camelCaseName kebab-case-name",
    "    four spaces\n        eight spaces\n", "a==b!=c<=d>=e->f=>g::h", "!!!???...,,,;;;", "...", "—–-", "«quotes» „German“ ‘single’",
    "中文文本测试", "我喜欢吃苹果。你呢？", "日本語のテキストです。カタカナとひらがな。", "한국어 텍스트입니다.",
    "Привет, мир! Как дела?", "Ελληνικά γράμματα", "مرحبا بالعالم", "السَّلَامُ عَلَيْكُمْ", "שלום עולם", "नमस्ते दुनिया",
    "ภาษาไทย", "Tiếng Việt có dấu", "Ünïcödé Çàfé naïve résumé", "straße STRASSE ß ẞ", "İstanbul ıi", "ǅungla ǈ ǋ",
    "😀", "😀😃😄", "Hello 👋 world 🌍!", "👨‍👩‍👧‍👦 family", "👍🏽 👍🏿 skin tones", "🏳️‍🌈 flag", "🇺🇸🇯🇵 flags", "❤️ heart",
    "e\u0301 vs \u00e9", "\u00e9", "e\u0301", "n\u0303 \u00f1", "a\u0308\u0304 stacked", "\u1e9b\u0323", "Å \u212b \u00c5", "ﬁ ligature ﬀ",
    "Ａｂｃ fullwidth １２３", "\u0041\u030a\u0301", "q\u0307\u0323", "한\u1100\u1161", "\u1100\u1161\u11a8",
    "<|begin_of_text|>", "<|begin_of_text|>Hello", "Hello<|end_of_text|>", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>", "<think>\nreasoning\n</think>\n\nanswer",
    "<tool_call>{\"a\": 1}</tool_call>", "<s>", "</s>", "<s>Hello</s>", "a<s>b</s>c", "<s> spaced </s>", "<unk>", "<<s>>", "<|im_start", "<|notatoken|>",
    "<0x41>", "\u2581already\u2581metaspace", "\u2581", "Ġ Ċ ĉ",
    "lone \ud800 high", "lone \udc00 low", "\udbff", "pair \ud83d\ude00 ok", "\ufffd replacement", "\u0000nul\u0001ctl\u007f",
    "\ue000 private use \uf8ff", "\u{10ffff} max", "\u{1d49c}\u{1d4b8} math script", "\u{20000} ext-b", "\u{e0041} tag",
    "noncharacters \ufffe \uffff", "\u00ad soft hyphen", "\u0300 leading combining", "\u034f cgj",
    "a".repeat(300), " ".repeat(200), "ab ".repeat(150), "\n".repeat(100), "1".repeat(250), "中".repeat(150), "😀".repeat(60),
    "the ".repeat(200), "x\ty\n".repeat(80), "=-".repeat(120), "é".repeat(100), "<s>".repeat(20), "<|im_end|>".repeat(10),
  ];
  const ranges = [[0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x09, 0x0d], [0x00, 0x1f], [0x80, 0x17f], [0x300, 0x36f],
    [0x370, 0x3ff], [0x400, 0x4ff], [0x600, 0x6ff], [0x2000, 0x206f], [0x3000, 0x30ff], [0x4e00, 0x4fff],
    [0xac00, 0xacff], [0xd800, 0xdfff], [0xff00, 0xffef], [0x1f300, 0x1f6ff], [0x1f900, 0x1f9ff], [0xe000, 0xe0ff]];
  const next = random(20240601);
  for (let t = 0; t < 80; t++) {
    const length = 1 + Math.floor(next() * 40);
    let s = "";
    for (let i = 0; i < length; i++) {
      const [lo, hi] = ranges[Math.floor(next() * ranges.length)];
      s += String.fromCodePoint(lo + Math.floor(next() * (hi - lo + 1)));
    }
    texts.push(s);
  }
  return texts;
}

function randomDecodes(tokenizer, seed) {
  const next = random(seed);
  const vocab = tokenizer.get_vocab();
  let size = 0;
  for (const id of vocab.values()) size = Math.max(size, id + 1);
  const specials = tokenizer.all_special_ids;
  const byteTokens = [...vocab.entries()].filter(([k]) => /^<0x[0-9A-F]{2}>$/.test(k)).map(([, v]) => v);
  const decodes = [];
  for (let t = 0; t < 60; t++) {
    const ids = [];
    const length = 1 + Math.floor(next() * 12);
    for (let i = 0; i < length; i++) {
      const r = next();
      if (r < 0.15) ids.push(specials[Math.floor(next() * specials.length)]);
      else if (r < 0.45 && byteTokens.length > 0) ids.push(byteTokens[Math.floor(next() * byteTokens.length)]);
      else if (r < 0.6) ids.push(Math.floor(next() * 300)); // single bytes of a byte-level vocabulary
      else ids.push(Math.floor(next() * size));
    }
    decodes.push({ ids, ...decodeBoth(tokenizer, ids) });
  }
  return decodes;
}

function decodeBoth(tokenizer, ids) {
  if (ids.length === 0) return { decoded: "", decoded_special: "" }; // transformers.js refuses an empty array
  return {
    decoded: tokenizer.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }),
    decoded_special: tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
  };
}

mkdirSync(outDir, { recursive: true });
const texts = corpus();
for (const [n, name] of NAMES.entries()) {
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const cases = texts.map((text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: false });
    const ids_special = tokenizer.encode(text, { add_special_tokens: true });
    return { text, ids, ids_special, ...decodeBoth(tokenizer, ids_special) };
  });
  const out = { tokenizer: name, transformers_js: version, cases, random_decodes: randomDecodes(tokenizer, 7 + n) };
  const file = join(outDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(out) + "\n");
  console.log(`${file}: ${cases.length} texts, ${out.random_decodes.length} random decodes`);
}
