"""References for RougeStateTest and PorterStemmerTest: NLTK's Porter stemmer and ROUGE with use_stemmer and rougeLsum.

    /tmp/qa-venv/bin/pip install nltk
    /tmp/qa-venv/bin/python lib/src/test/python/make_rouge_references.py

Writes lib/src/test/resources/metrics/rouge_references.json:
  porter  every distinct word (a-z runs, lower-cased) of the license texts in /usr/share/common-licenses plus words
          that reach each NLTK amendment, with nltk.stem.porter.PorterStemmer().stem(word) (NLTK_EXTENSIONS, the
          stemmer rouge_score uses) — the independent reference for the Java port;
  rouge   (prediction, reference) pairs, multi-sentence ones included, with rouge1/2/L/Lsum F-measures with and
          without stemming.
Google's rouge_score is not on the local package indexes, so its scoring is transcribed below from rouge_score 0.1.2
(tokenize.py, rouge_scorer.py: _score_ngrams, _score_lcs, _summary_level_lcs, _union_lcs, _backtrack_norec) over
NLTK's stemmer; RougeStateTest also checks hand-computed cases, the ROUGE paper's summary-level LCS example included.
"""
import collections
import glob
import json
import os
import re

from nltk.stem import porter

STEMMER = porter.PorterStemmer()
AMENDMENTS = ["skies", "sky", "dying", "lying", "tying", "news", "innings", "outings", "cannings", "howe", "proceed",
              "exceed", "succeed", "ties", "pies", "cries", "tied", "spied", "died", "happy", "enjoy", "spy", "fly",
              "try", "by", "y", "yy", "yyyy", "syzygy", "toy", "relational", "conditional", "rational", "valenci",
              "hesitanci", "digitizer", "conformabli", "radicalli", "differentli", "vileli", "analogousli",
              "vietnamization", "predication", "operator", "feudalism", "decisiveness", "hopefulness", "callousness",
              "formaliti", "sensitiviti", "sensibiliti", "hopefulli", "archaeologi", "triplicate", "formative",
              "formalize", "electriciti", "electrical", "hopeful", "goodness", "revival", "allowance", "inference",
              "airliner", "gyroscopic", "adjustable", "defensible", "irritant", "replacement", "adjustment",
              "dependent", "adoption", "homologou", "communism", "activate", "angulariti", "homologous", "effective",
              "bowdlerize", "probate", "rate", "cease", "controll", "roll", "caresses", "ponies", "caress", "cats",
              "feed", "agreed", "plastered", "bled", "motoring", "sing", "conflated", "troubled", "sized", "hopping",
              "tanned", "falling", "hissing", "fizzed", "failing", "filing", "generously", "generalizations",
              "oscillators", "aed", "eed", "ied", "ing", "ates", "mowing", "boxing", "obeying", "at", "is", "as"]


def tokenize(text, stemmer):
    # rouge_score/tokenize.py
    text = text.lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    tokens = re.split(r"\s+", text)
    if stemmer:
        tokens = [stemmer.stem(x) if len(x) > 3 else x for x in tokens]
    return [x for x in tokens if re.match(r"^[a-z0-9]+$", x)]


def fmeasure(p, r):
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def score_ngrams(target, prediction):
    overlap = sum(min(c, prediction[g]) for g, c in target.items())
    p = overlap / max(sum(prediction.values()), 1)
    r = overlap / max(sum(target.values()), 1)
    return fmeasure(p, r)


def lcs_table(ref, can):
    t = [[0] * (len(can) + 1) for _ in range(len(ref) + 1)]
    for i in range(1, len(ref) + 1):
        for j in range(1, len(can) + 1):
            t[i][j] = t[i - 1][j - 1] + 1 if ref[i - 1] == can[j - 1] else max(t[i - 1][j], t[i][j - 1])
    return t


def score_lcs(target, prediction):
    if not target or not prediction:
        return 0.0
    lcs = lcs_table(target, prediction)[-1][-1]
    return fmeasure(lcs / len(prediction), lcs / len(target))


def backtrack_norec(t, ref, can):
    i, j, lcs = len(ref), len(can), []
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            lcs.insert(0, i - 1)
            i -= 1
            j -= 1
        elif t[i][j - 1] > t[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return lcs


def union_lcs(ref, c_list):
    lcs_list = [backtrack_norec(lcs_table(ref, c), ref, c) for c in c_list]
    return [ref[i] for i in sorted(list(set().union(*lcs_list)))]


def summary_level_lcs(ref_sent, can_sent):
    if not ref_sent or not can_sent:
        return 0.0
    m = sum(map(len, ref_sent))
    n = sum(map(len, can_sent))
    if not n or not m:
        return 0.0
    token_cnts_r = collections.Counter()
    token_cnts_c = collections.Counter()
    for s in ref_sent:
        token_cnts_r.update(s)
    for s in can_sent:
        token_cnts_c.update(s)
    hits = 0
    for r in ref_sent:
        for t in union_lcs(r, can_sent):
            if token_cnts_c[t] > 0 and token_cnts_r[t] > 0:
                hits += 1
                token_cnts_c[t] -= 1
                token_cnts_r[t] -= 1
    return fmeasure(hits / n, hits / m)


def score(target, prediction, use_stemmer):
    stemmer = STEMMER if use_stemmer else None
    t = tokenize(target, stemmer)
    p = tokenize(prediction, stemmer)

    def sents(text):
        return [tokenize(s, stemmer) for s in text.split("\n") if len(s)]

    return {"rouge1": score_ngrams(ngrams(t, 1), ngrams(p, 1)),
            "rouge2": score_ngrams(ngrams(t, 2), ngrams(p, 2)),
            "rougeL": score_lcs(t, p),
            "rougeLsum": summary_level_lcs(sents(target), sents(prediction))}


PAIRS = [
    ("The cats were sitting on the mats.", "the cat sat on the mat"),
    ("Licensors provide the works as is.\nNo warranties are given.", "Licensor provides the Work on an AS IS basis.\n"
     "It gives no warranty of any kind.\nSee the License."),
    ("w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5", "w1 w2 w3 w4 w5"),
    ("Redistributions of the software must retain the copyright notices.",
     "Redistribution and use of the software, modified or not, is permitted.\n\nKeep the copyright notice."),
    ("generously generalizing generalizations\nhappily hoping", "general generalization\nhappy hopes hopping"),
    ("!!!", "the cat"),
    ("the the the\nthe", "the cat\ncat the"),
]


def main():
    words = set(AMENDMENTS)
    for f in glob.glob("/usr/share/common-licenses/*"):
        if os.path.isfile(f):
            with open(f, encoding="utf-8", errors="replace") as fh:
                words.update(re.findall(r"[a-z]+", fh.read().lower()))
    out = {
        "nltk_porter_mode": STEMMER.mode,
        "porter": {w: STEMMER.stem(w) for w in sorted(words)},
        "rouge": [{"prediction": p, "reference": r, "stemmed": score(r, p, True), "plain": score(r, p, False)}
                  for p, r in PAIRS],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "metrics",
                        "rouge_references.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=0)
        f.write("\n")
    print(len(out["porter"]), "words;", json.dumps(out["rouge"][2]))


if __name__ == "__main__":
    main()
