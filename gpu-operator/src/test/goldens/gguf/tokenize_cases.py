#!/usr/bin/env python3
"""llama.cpp's tokenization of each case of a golden encode file (lines "<hex of UTF-8 text>|<ids>", or a
tokenizer-goldens JSON file's cases[].text).

usage: tokenize_cases.py LLAMA_TOKENIZE MODEL.gguf CASES.txt|CASES.json > OUT.txt
Runs `llama-tokenize --stdin --no-escape --ids` on each text's exact bytes (BOS added as the vocabulary says;
llama-tokenize always parses special-token text such as "<s>").
"""
import json
import subprocess
import sys


def texts(cases):
    if cases.endswith(".json"):
        for case in json.load(open(cases, encoding="utf-8"))["cases"]:
            try:
                yield case["text"].encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: no UTF-8 text to give llama-tokenize
        return
    for line in open(cases, encoding="utf-8"):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            yield bytes.fromhex(line.split("|")[0])


def main(tool, model, cases):
    print(f"# llama.cpp llama-tokenize --ids (BOS as the vocabulary adds it, special-token text parsed) with {model.split('/')[-1]}")
    print("# one case per line: <UTF-8 bytes of the text in hex>|<token ids>; the line before shows the text escaped")
    for text in texts(cases):
        run = subprocess.run([tool, "-m", model, "--stdin", "--no-escape", "--ids", "--log-disable"],
                             input=text, capture_output=True, check=True)
        ids = run.stdout.decode().strip().strip("[]").replace(" ", "")
        print("# " + text.decode("utf-8").encode("unicode_escape").decode("ascii"))
        print(f"{text.hex()}|{ids}")


if __name__ == "__main__":
    main(*sys.argv[1:])
