"""A seeded tiny Marian checkpoint with Marian's own tokenizer files (source.spm, target.spm, vocab.json, two
SentencePiece Unigram models trained here on the license texts of /usr/share/common-licenses, ">>de<<" and ">>fr<<"
target codes in the shared vocabulary) converted once to tokenizer.json by convert_marian_tokenizer.py, and the
references of the Java tests: MarianTokenizer's ids for texts with and without a language code, and transformers'
translation pipeline outputs.

    /tmp/qa-venv/bin/python lib/src/test/python/make_marian_tokenizer_references.py lib/src/test/resources/seq2seq

Needs sentencepiece (on the local Python index). Writes marian-spm-tiny/ and marian_spm_references.json.
"""
import io
import json
import os
import sys

import sentencepiece as spm
import torch
from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer, pipeline

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_marian_tokenizer  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "lib/src/test/resources/seq2seq"
TEXTS = ["The licensee may copy and distribute the Program.",
         ">>de<< This License does not grant permission to use the trade names of the Licensor.",
         ">>fr<< Copyright notice.",
         "You must give any other recipients of the Work a copy of this License."]


def train(path, vocab_size):
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip()]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size,
                                   model_type="unigram", character_coverage=1.0, pad_id=-1, bos_id=-1, eos_id=-1,
                                   unk_id=0, seed_sentencepiece_size=100000, num_threads=1)
    return model.getvalue()


def main():
    d = os.path.join(OUT, "marian-spm-tiny")
    os.makedirs(d, exist_ok=True)
    src = train("/usr/share/common-licenses/Apache-2.0", 300)
    tgt = train("/usr/share/common-licenses/GPL-3", 300)
    for name, m in (("source.spm", src), ("target.spm", tgt)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(m)
    pieces = ["</s>", "<unk>", ">>de<<", ">>fr<<"]
    for m in (src, tgt):
        sp = spm.SentencePieceProcessor(model_proto=m)
        pieces += [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if sp.id_to_piece(i) not in pieces]
    pieces.append("<pad>")
    vocab = {p: i for i, p in enumerate(pieces)}
    with open(os.path.join(d, "vocab.json"), "w") as f:
        json.dump(vocab, f, ensure_ascii=False, indent=1)
    tok = MarianTokenizer(os.path.join(d, "source.spm"), os.path.join(d, "target.spm"), os.path.join(d, "vocab.json"),
                          model_max_length=64)
    tok.save_pretrained(d)

    torch.manual_seed(99)
    pad = vocab["<pad>"]
    config = MarianConfig(vocab_size=len(vocab), d_model=32, encoder_layers=2, decoder_layers=2,
                          encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
                          decoder_ffn_dim=64, max_position_embeddings=64, init_std=0.5, pad_token_id=pad,
                          eos_token_id=0, decoder_start_token_id=pad, forced_eos_token_id=0,
                          attn_implementation="eager")
    model = MarianMTModel(config).eval()
    with torch.no_grad():
        model.final_logits_bias.normal_(0, 0.1)
    model.generation_config = GenerationConfig(eos_token_id=0, pad_token_id=pad, decoder_start_token_id=pad,
                                               forced_eos_token_id=0, max_length=16, num_beams=2)
    model.save_pretrained(d)

    slow, fast = convert_marian_tokenizer.convert(d)
    convert_marian_tokenizer.check(slow, fast, TEXTS)
    pipe = pipeline("translation", model=d, tokenizer=MarianTokenizer.from_pretrained(d), device="cpu")
    refs = {"texts": TEXTS, "input_ids": [slow(t)["input_ids"] for t in TEXTS],
            "translation": [pipe(t) for t in TEXTS]}
    with open(os.path.join(OUT, "marian_spm_references.json"), "w") as f:
        json.dump(refs, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
