"""Renders the conversations of ../../resources/chat/goldens.json with Python's Jinja2, set up the way Hugging Face
transformers' apply_chat_template sets it up, and writes ../../resources/chat/goldens-jinja2.json: a second oracle,
where @huggingface/jinja departs from Python.

    python3 make-goldens-jinja2.py [path/to/shared/models/tokenizers]      # needs jinja2 3.1 (Debian: python3-jinja2)

The environment: a sandbox with trim_blocks, lstrip_blocks, loop controls and the {% generation %} block; globals
raise_exception and strftime_now (on the fixed clock of make-goldens.mjs); tojson as json.dumps with
ensure_ascii=False. The variables are those make-goldens.mjs passes.
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.join(HERE, "..", "..", "resources", "chat")
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "..", "..", "..", "shared", "models", "tokenizers")
SPECIAL_TOKENS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]


class Raised(Exception):
    pass


class Generation(Extension):
    """{% generation %}...{% endgeneration %}: its body, as it is."""

    tags = {"generation"}

    def parse(self, parser):
        next(parser.stream)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def raise_exception(message):
    raise Raised(message)


def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment(now):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[Generation, "jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: now.strftime(fmt)
    return env


def token_text(token):
    return token.get("content") if isinstance(token, dict) else token


def templates():
    found = []
    for name in ["llama3-instruct", "qwen3"]:
        with open(os.path.join(SHARED, name, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        tokens = {t: token_text(config[t]) for t in SPECIAL_TOKENS if token_text(config.get(t)) is not None}
        found.append({"id": name, "special_tokens": tokens, "chat_template": config["chat_template"]})
    with open(os.path.join(RESOURCES, "templates.json"), encoding="utf-8") as f:
        for t in json.load(f)["templates"]:
            tokens = {k: t[k] for k in ("bos_token", "eos_token") if t.get(k) is not None}
            found.append({"id": t["id"], "special_tokens": tokens, "chat_template": t["chat_template"]})
    return found


def main():
    with open(os.path.join(RESOURCES, "goldens.json"), encoding="utf-8") as f:
        goldens = json.load(f)
    now = datetime.datetime.fromisoformat(goldens["fixed_now"].replace("Z", "+00:00"))
    env = environment(now)
    renders = []
    for template in templates():
        try:
            compiled = env.from_string(template["chat_template"])
        except jinja2.TemplateError as e:
            compiled = e
        for case in goldens["cases"]:
            render = {"template": template["id"], "case": case["id"]}
            variables = {"messages": json.loads(json.dumps(case["messages"])),
                         "add_generation_prompt": case["add_generation_prompt"], "tools": None, "documents": None,
                         **template["special_tokens"], **case["extra"]}
            try:
                if isinstance(compiled, Exception):
                    raise compiled
                text = compiled.render(**variables)
                if any(isinstance(m["content"], list) for m in case["messages"]) and "'type': 'text'" in text:
                    # a template that takes strings only writes the list's repr; ChatTemplate joins text parts
                    render["python_error"] = "a list of content parts written into the text as its repr"
                else:
                    render["expected"] = text
            except Raised as e:
                render["raised"] = str(e)
            except Exception as e:  # the template fails on this conversation in Python too
                render["python_error"] = f"{type(e).__name__}: {e}"
            renders.append(render)
    out = os.path.join(RESOURCES, "goldens-jinja2.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"oracle": {"engine": "jinja2", "version": jinja2.__version__}, "renders": renders}, f,
                  ensure_ascii=False, indent=1)
        f.write("\n")
    counts = {k: sum(1 for r in renders if k in r) for k in ("expected", "raised", "python_error")}
    print(f"wrote {len(renders)} renders to {out}: {counts}")


if __name__ == "__main__":
    main()
