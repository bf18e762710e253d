"""Reference corpus BLEU for BleuStateTest, computed by sacrebleu (the independent implementation).

Run: /tmp/qa-venv/bin/python lib/src/test/python/make_seq2seq_metric_references.py
Writes lib/src/test/resources/metrics/bleu_references.json (committed, so the Java tests need no Python).
rouge_score is not on the local package indexes; RougeStateTest checks hand-computed cases instead.
"""
import json
import os

import sacrebleu

CASES = {
    "simple": (["the cat sat on the mat."], [["the cat is on the mat."]]),
    "punctuation_numbers": (
        [
            "Price: $3.50, up 1,000 units (2019-2020)!",
            "He said \"hello\" &amp; left -- quickly; didn't he?",
            "Re: [spam] Your account #42 is <b>ready</b>",
        ],
        [
            ["Price: $3.50, up 1,000 units in 2019-2020."],
            ["He said &quot;hello&quot; & left quickly; did not he?"],
            ["RE: your account #42 is ready"],
        ],
    ),
    "brevity_penalty": (
        ["a short one", "the quick brown fox"],
        [["a short one that is much longer"], ["the quick brown fox jumps over the lazy dog"]],
    ),
    "multi_reference": (
        ["the cat is on the mat", "there is a dog here"],
        [
            ["the cat sat on the mat", "a dog is here"],
            ["there is a cat on the mat", "there is a dog in here"],
        ],
    ),
    "no_4gram_match": (
        ["one two three x four five", "alpha beta gamma"],
        [["one two three four five"], ["alpha beta delta"]],
    ),
    "no_match": (["completely different"], [["nothing in common"]]),
    "unicode_whitespace": (["caf\u00e9\u00a0au lait\u3000ok"], [["caf\u00e9 au lait ok"]]),
}


def main():
    out = {}
    for name, (hyps, refs) in CASES.items():
        # sacrebleu takes reference streams: stream k holds the k-th reference of every hypothesis
        streams = [[r[k] for r in refs] for k in range(len(refs[0]))]
        entry = {"hypotheses": hyps, "references": refs}
        for smooth in ("exp", "none"):
            s = sacrebleu.corpus_bleu(hyps, streams, smooth_method=smooth)
            entry[smooth] = {
                "bleu": s.score,
                "precisions": s.precisions,
                "brevity_penalty": s.bp,
                "sys_len": s.sys_len,
                "ref_len": s.ref_len,
            }
        entry["tokenized_hypotheses"] = [sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()(h) for h in hyps]
        out[name] = entry
    out["_meta"] = {"sacrebleu": sacrebleu.__version__, "tokenize": "13a", "max_ngram_order": 4}
    path = os.path.join(os.path.dirname(__file__), "..", "resources", "metrics", "bleu_references.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
