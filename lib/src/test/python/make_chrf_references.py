"""Reference corpus chrF for ChrfStateTest, computed by sacrebleu (the independent implementation) with its defaults
(char order 6, word order 0, beta 2, whitespace removed, no eps smoothing).

Run: /tmp/qa-venv/bin/python lib/src/test/python/make_chrf_references.py
Writes lib/src/test/resources/metrics/chrf_references.json (committed, so the Java tests need no Python).
The BLEU cases of make_seq2seq_metric_references.py are reused, plus cases that exercise chrF's own edges.
"""
import json
import os
import sys

import sacrebleu

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_seq2seq_metric_references import CASES as BLEU_CASES  # noqa: E402

CASES = dict(BLEU_CASES)
CASES.update({
    "shorter_than_order_6": (["abc", "a b"], [["abcd"], ["ab"]]),
    "non_bmp_and_accents": (["na\u00efve \U0001F600 caf\u00e9s", "Stra\u00dfe"], [["naive \U0001F600 cafe"], ["Strasse"]]),
    "empty_hypothesis": (["", "the same text"], [["not empty at all"], ["the same text"]]),
    "multi_reference_best_sentence": (
        ["translation of a sentence"],
        [["a sentence translated", "translation of the sentence"]],
    ),
    "control_and_nbsp_whitespace": (["a\u00a0b\tc\u2009d\x1ce"], [["abcde"]]),
})


def main():
    out = {}
    for name, (hyps, refs) in CASES.items():
        streams = [[r[k] for r in refs] for k in range(len(refs[0]))]
        score = sacrebleu.corpus_chrf(hyps, streams)
        out[name] = {"hypotheses": hyps, "references": refs, "chrf": score.score}
    out["_generator"] = f"sacrebleu {sacrebleu.__version__} corpus_chrf defaults"
    path = os.path.join(os.path.dirname(__file__), "..", "resources", "metrics", "chrf_references.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
