"""Reference outputs for the encoder-decoder (BART, T5) parity tests, from Python transformers.

Run with a venv holding transformers 4.57.6, tokenizers 0.22.2 and torch 2.13 CPU (see DESIGN.md):

    /tmp/qa-venv/bin/python lib/src/test/python/make_seq2seq_references.py lib/src/test/resources/seq2seq

Writes into the target folder three seeded random tiny checkpoints saved with save_pretrained, each with a
tokenizer trained here with the tokenizers library on the license texts of /usr/share/common-licenses:
    bart-tiny/     BartForConditionalGeneration (d_model 32, 2+2 layers, scale_embedding, forced BOS/EOS), a
                   byte-level BPE tokenizer (BartTokenizerFast layout: <s> X </s>)
    t5-tiny/       T5ForConditionalGeneration v1.0 (relu, tied head: the d_model**-0.5 rescale), a Unigram tokenizer
                   (T5TokenizerFast layout: X </s>), task_specific_params with prefixes
    t5-v11-tiny/   T5 v1.1 (gated-gelu, untied lm_head), the same tokenizer
    marian-tiny/   MarianMTModel (sinusoidal positions, swish, scale_embedding, shared embeddings) over the same
                   Unigram ids (Marian's own two-vocabulary SentencePiece tokenizer has no tokenizer.json: model
                   parity only, no pipeline; make_marian_tokenizer_references.py builds one with the spm files)
and references.json: per model the encoder states and teacher-forced decoder logits of a right-padded batch of two
texts, generate() outputs (greedy, beam search with length_penalty / no_repeat_ngram_size / min_length /
num_return_sequences, early stopping) with sequences and beam scores, and pipeline outputs (summarization,
translation_en_to_de, text2text-generation). Attention is eager so the references do not depend on SDPA kernels;
init ranges are wide so the random models' next-token distributions are peaked and argmax / beam orders do not
hinge on 1e-7 differences between libtorch builds. Unigram training is not bit-reproducible (scores differ in the
last digit between runs, which can change the pipeline outputs): rerunning rewrites the tokenizers and every
reference together, so commit them together.

With a second argument, bart-nli, it writes only bart-nli-tiny/ (BartForSequenceClassification, the layout of the
zero-shot NLI checkpoints: eos pooling, classification_head.dense/out_proj; id2label contradiction / neutral /
entailment) over bart-tiny's saved tokenizer, and bart_nli_references.json (logits of a right-padded batch of text
pairs, zero-shot-classification and text-classification pipeline outputs), leaving every other file as it is:

    /tmp/qa-venv/bin/python lib/src/test/python/make_seq2seq_references.py lib/src/test/resources/seq2seq bart-nli
"""
import json
import math
import os
import sys

import torch
from tokenizers import ByteLevelBPETokenizer, SentencePieceUnigramTokenizer
from tokenizers.processors import RobertaProcessing, TemplateProcessing
from transformers import (BartConfig, BartForConditionalGeneration, BartForSequenceClassification, BartTokenizerFast, GenerationConfig, MarianConfig,
                          MarianMTModel, T5Config, T5ForConditionalGeneration, T5TokenizerFast, pipeline)

torch.set_num_threads(1)
OUT = sys.argv[1] if len(sys.argv) > 1 else "lib/src/test/resources/seq2seq"
LICENSES = ["/usr/share/common-licenses/Apache-2.0", "/usr/share/common-licenses/GPL-3"]
TEXTS = ["You must give any other recipients of the Work a copy of this License.",
         "Copyright notice."]
PIPELINE_TEXTS = ["The licensee may copy and distribute the Program.",
                  "This License does not grant permission to use the trade names of the Licensor."]


def floats(t):
    return [None if math.isinf(x) and x < 0 else x for x in t.reshape(-1).tolist()]


def bart_tokenizer():
    bpe = ByteLevelBPETokenizer()
    bpe.train(LICENSES, vocab_size=400, min_frequency=2,
              special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
    bpe._tokenizer.post_processor = RobertaProcessing(("</s>", 2), ("<s>", 0))
    tok = BartTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                            cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    tok.model_max_length = 64
    return tok


def t5_tokenizer():
    lines = []
    for f in LICENSES:
        with open(f) as fh:
            lines += [l.strip() for l in fh if l.strip()]
    uni = SentencePieceUnigramTokenizer()
    uni.train_from_iterator(lines, vocab_size=400, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>",
                            show_progress=False)
    uni._tokenizer.post_processor = TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", 1)])
    tok = T5TokenizerFast(tokenizer_object=uni._tokenizer, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                          extra_ids=0)
    tok.model_max_length = 64
    return tok


def save(model, tok, name):
    d = os.path.join(OUT, name)
    model.save_pretrained(d)
    tok.save_pretrained(d)
    for junk in ["vocab.json", "merges.txt", "special_tokens_map.json", "spiece.model"]:
        p = os.path.join(d, junk)
        if os.path.exists(p):
            os.remove(p)
    return d


def model_refs(model, tok, forced):
    batch = tok(TEXTS, return_tensors="pt", padding=True)
    start = model.config.decoder_start_token_id
    dec = torch.tensor([[start, 5, 17, 9, 30, 11], [start, 8, 8, 40, 3, 21]])
    refs = {"input_ids": batch["input_ids"].tolist(), "attention_mask": batch["attention_mask"].tolist(),
            "decoder_input_ids": dec.tolist()}
    with torch.no_grad():
        out = model(**batch, decoder_input_ids=dec)
        refs["encoder_last_hidden_state"] = floats(out.encoder_last_hidden_state)
        refs["logits"] = floats(out.logits)
        cases = [
            ("greedy", dict(max_new_tokens=12)),
            ("greedy_min_length", dict(max_new_tokens=10, min_length=8, no_repeat_ngram_size=3)),
            ("beam", dict(max_new_tokens=12, num_beams=4, length_penalty=0.8, no_repeat_ngram_size=3, min_length=5,
                          num_return_sequences=2)),
            ("beam_early_stopping", dict(max_length=10, num_beams=3, early_stopping=True, length_penalty=2.0)),
        ]
        gens = []
        for name, kwargs in cases:
            res = model.generate(**batch, do_sample=False, return_dict_in_generate=True, output_scores=True,
                                 **forced, **kwargs)
            case = {"name": name, "options": dict(kwargs, **forced), "sequences": res.sequences.tolist()}
            if getattr(res, "sequences_scores", None) is not None:
                case["sequences_scores"] = res.sequences_scores.tolist()
            gens.append(case)
        refs["generate"] = gens
    return refs


def pipeline_refs(d, task, texts, **kwargs):
    pipe = pipeline(task, model=d, tokenizer=d, device="cpu")
    return {"task": task, "texts": texts, "kwargs": kwargs, "outputs": [pipe(t, **kwargs) for t in texts]}


def main():
    os.makedirs(OUT, exist_ok=True)
    refs = {"texts": TEXTS}

    tok = bart_tokenizer()
    torch.manual_seed(1234)
    config = BartConfig(vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2,
                        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                        max_position_embeddings=64, init_std=0.2, scale_embedding=True, pad_token_id=1,
                        bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=0,
                        forced_eos_token_id=2, attn_implementation="eager")
    model = BartForConditionalGeneration(config).eval()
    with torch.no_grad():
        model.final_logits_bias.normal_(0, 0.5)
    model.generation_config = GenerationConfig(bos_token_id=0, eos_token_id=2, pad_token_id=1,
                                               decoder_start_token_id=2, forced_bos_token_id=0,
                                               forced_eos_token_id=2, max_length=24)
    bart_dir = save(model, tok, "bart-tiny")
    refs["bart"] = model_refs(model, tok, {})

    tok = t5_tokenizer()
    specific = {"summarization": {"prefix": "summarize: ", "max_length": 16, "min_length": 3, "num_beams": 2,
                                  "no_repeat_ngram_size": 3, "length_penalty": 2.0, "early_stopping": True},
                "translation_en_to_de": {"prefix": "translate English to German: ", "max_length": 16,
                                         "num_beams": 4, "early_stopping": True}}
    for name, proj, tied, seed in [("t5-tiny", "relu", True, 99), ("t5-v11-tiny", "gated-gelu", False, 7)]:
        torch.manual_seed(seed)
        config = T5Config(vocab_size=len(tok), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
                          num_heads=4, relative_attention_num_buckets=8, relative_attention_max_distance=20,
                          feed_forward_proj=proj, tie_word_embeddings=tied, pad_token_id=0, eos_token_id=1,
                          decoder_start_token_id=0, initializer_factor=3.0, task_specific_params=specific)
        model = T5ForConditionalGeneration(config).eval()
        model.generation_config = GenerationConfig(eos_token_id=1, pad_token_id=0, decoder_start_token_id=0,
                                                   max_length=24)
        save(model, tok, name)
        refs["t5" if tied else "t5v11"] = model_refs(model, tok, {})

    torch.manual_seed(5)
    config = MarianConfig(vocab_size=len(tok), decoder_vocab_size=len(tok), d_model=32, encoder_layers=2,
                          decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
                          decoder_ffn_dim=64, max_position_embeddings=64, init_std=0.2, scale_embedding=True,
                          activation_function="swish", pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
                          forced_eos_token_id=1, attn_implementation="eager")
    model = MarianMTModel(config).eval()
    with torch.no_grad():
        model.final_logits_bias.normal_(0, 0.5)
    model.generation_config = GenerationConfig(eos_token_id=1, pad_token_id=0, decoder_start_token_id=0,
                                               forced_eos_token_id=1, max_length=24)
    save(model, tok, "marian-tiny")
    refs["marian"] = model_refs(model, tok, {})

    t5_dir = os.path.join(OUT, "t5-tiny")
    v11_dir = os.path.join(OUT, "t5-v11-tiny")
    refs["pipelines"] = [
        pipeline_refs(bart_dir, "summarization", PIPELINE_TEXTS, max_length=12, min_length=4),
        pipeline_refs(bart_dir, "text2text-generation", PIPELINE_TEXTS[:1]),
        pipeline_refs(t5_dir, "summarization", PIPELINE_TEXTS),
        pipeline_refs(t5_dir, "translation_en_to_de", PIPELINE_TEXTS),
        pipeline_refs(v11_dir, "text2text-generation", PIPELINE_TEXTS, max_new_tokens=8, num_beams=2),
    ]
    with open(os.path.join(OUT, "references.json"), "w") as f:
        json.dump(refs, f, separators=(",", ":"))


def bart_nli():
    tok = BartTokenizerFast.from_pretrained(os.path.join(OUT, "bart-tiny"))
    torch.manual_seed(4321)
    labels = ["contradiction", "neutral", "entailment"]
    config = BartConfig(vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2,
                        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                        max_position_embeddings=64, init_std=0.2, scale_embedding=True, pad_token_id=1,
                        bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, attn_implementation="eager",
                        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = BartForSequenceClassification(config).eval()
    d = save(model, tok, "bart-nli-tiny")
    premises = PIPELINE_TEXTS + ["Copyright notice."]
    hypotheses = ["This example is about licenses.", "This example is about trade names.", "This example is short."]
    batch = tok(premises, hypotheses, return_tensors="pt", padding=True)
    with torch.no_grad():
        logits = model(**batch).logits
    refs = {"premises": premises, "hypotheses": hypotheses, "input_ids": batch["input_ids"].tolist(),
            "logits": floats(logits)}
    zs = pipeline("zero-shot-classification", model=d, tokenizer=d, device="cpu")
    candidates = ["licenses", "trade names", "weather"]
    refs["zero_shot"] = {"candidate_labels": candidates,
                         "single": [zs(t, candidate_labels=candidates) for t in premises],
                         "multi": [zs(t, candidate_labels=candidates, multi_label=True) for t in premises]}
    tc = pipeline("text-classification", model=d, tokenizer=d, device="cpu")
    refs["text_classification"] = [tc(t, top_k=None) for t in premises]
    with open(os.path.join(OUT, "bart_nli_references.json"), "w") as f:
        json.dump(refs, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "bart-nli":
        bart_nli()
    else:
        main()
