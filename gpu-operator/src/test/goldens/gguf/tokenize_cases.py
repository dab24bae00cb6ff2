#!/usr/bin/env python3
"""llama.cpp's tokenization of each case of a golden encode file (lines "<hex of UTF-8 text>|<ids>").

usage: tokenize_cases.py LLAMA_TOKENIZE MODEL.gguf CASES.txt > OUT.txt
Runs `llama-tokenize --stdin --no-escape --ids` on each text's exact bytes (BOS added as the vocabulary says;
llama-tokenize always parses special-token text such as "<s>").
"""
import subprocess
import sys


def main(tool, model, cases):
    print(f"# llama.cpp llama-tokenize --ids (BOS as the vocabulary adds it, special-token text parsed) with {model.split('/')[-1]}")
    print("# one case per line: <UTF-8 bytes of the text in hex>|<token ids>; the line before shows the text escaped")
    for line in open(cases, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        text = bytes.fromhex(line.split("|")[0])
        run = subprocess.run([tool, "-m", model, "--stdin", "--no-escape", "--ids", "--log-disable"],
                             input=text, capture_output=True, check=True)
        ids = run.stdout.decode().strip().strip("[]").replace(" ", "")
        print("# " + text.decode("utf-8").encode("unicode_escape").decode("ascii"))
        print(f"{text.hex()}|{ids}")


if __name__ == "__main__":
    main(*sys.argv[1:])
