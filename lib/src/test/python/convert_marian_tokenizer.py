"""Writes tokenizer.json for a Marian checkpoint that has only source.spm, target.spm and vocab.json.

transformers has no fast Marian tokenizer, and Sparkformers reads tokenizers through tokenizer.json only. This builds
one with transformers' own SentencePiece converter (SpmConverter: the source model's normalizer, Metaspace
pre-tokenizer and decoder, Unigram scores) over Marian's shared vocab.json ids, so a text encodes to the ids
MarianTokenizer gives it:
  - source side: the Unigram pieces and scores of source.spm, ids from vocab.json; pieces of vocab.json that
    source.spm lacks (target-only pieces, language codes) get a score far below every source piece, so encoding never
    picks them, while decoding (target side) maps them back to text through the same Metaspace decoder;
  - ">>xx<<" language codes: added tokens matched whole, as MarianTokenizer.remove_language_code splits them off;
  - "$A </s>" as the post-processor; <pad>, </s>, <unk> special.
Checkpoints with separate source and target vocabularies (separate_vocabs=True) cannot share one tokenizer.json and
are refused. The check at the end compares both tokenizers on the given texts and fails if they disagree.

    /tmp/qa-venv/bin/python lib/src/test/python/convert_marian_tokenizer.py CHECKPOINT_DIR ["text" ...]

Needs sentencepiece and protobuf (pip install sentencepiece; both are on the local Python index).
"""
import os
import sys

from tokenizers import AddedToken, processors
from transformers import MarianTokenizer, PreTrainedTokenizerFast
from transformers.convert_slow_tokenizer import SpmConverter


class MarianConverter(SpmConverter):
    """SpmConverter over source.spm, with Marian's vocab.json ids."""

    def __init__(self, tok):
        tok.vocab_file = tok.spm_files[0]  # SpmConverter reads the SentencePiece proto from vocab_file
        super().__init__(tok)

    def vocab(self, proto):
        scores = {p.piece: p.score for p in self.proto.pieces}
        floor = min(scores.values()) - 100.0
        encoder = self.original_tokenizer.encoder
        ordered = sorted(encoder.items(), key=lambda kv: kv[1])
        if [i for _, i in ordered] != list(range(len(ordered))):
            raise SystemExit("vocab.json ids are not 0..n-1")
        specials = {str(t) for t in self.original_tokenizer.all_special_tokens}
        return [(p, 0.0 if p in specials else scores.get(p, floor)) for p, _ in ordered]

    def unk_id(self, proto):
        return self.original_tokenizer.encoder[str(self.original_tokenizer.unk_token)]

    def tokenizer(self, proto):
        tokenizer = super().tokenizer(proto)
        # SpmConverter added source.spm's control pieces by their spm ids: only Marian's own specials count
        return tokenizer

    def post_processor(self):
        eos = self.original_tokenizer.eos_token
        return processors.TemplateProcessing(single=f"$A {eos}", pair=f"$A $B {eos}",
                                             special_tokens=[(eos, self.original_tokenizer.encoder[eos])])


def convert(d):
    slow = MarianTokenizer.from_pretrained(d)
    if slow.separate_vocabs:
        raise SystemExit(f"{d}: separate source and target vocabularies cannot share one tokenizer.json")
    fast_tok = MarianConverter(slow).converted()
    fast_tok.add_special_tokens([AddedToken(str(t), normalized=False, special=True)
                                 for t in (slow.pad_token, slow.eos_token, slow.unk_token)])
    fast_tok.add_tokens([AddedToken(c, normalized=False, special=False, single_word=False)
                         for c in slow.supported_language_codes])
    fast_tok.save(os.path.join(d, "tokenizer.json"))
    return slow, PreTrainedTokenizerFast(tokenizer_file=os.path.join(d, "tokenizer.json"), eos_token=slow.eos_token,
                                         unk_token=slow.unk_token, pad_token=slow.pad_token)


def check(slow, fast, texts):
    for t in texts:
        a, b = slow(t)["input_ids"], fast(t)["input_ids"]
        if a != b:
            raise SystemExit(f"tokenizer.json encodes {t!r} as {b}, MarianTokenizer as {a}")
        if slow.decode(a, skip_special_tokens=True) != fast.decode(b, skip_special_tokens=True):
            raise SystemExit(f"decoding {a} differs: {slow.decode(a, skip_special_tokens=True)!r} vs "
                             f"{fast.decode(b, skip_special_tokens=True)!r}")


if __name__ == "__main__":
    slow, fast = convert(sys.argv[1])
    check(slow, fast, sys.argv[2:])
    print(f"wrote {os.path.join(sys.argv[1], 'tokenizer.json')}: {len(slow.encoder)} ids")
