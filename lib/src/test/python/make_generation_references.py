"""Reference outputs for the text-generation parity tests, from Python transformers' own generate().

Run with a venv holding transformers 4.57.6, tokenizers 0.22.2 and torch 2.13 CPU (see DESIGN.md):

    /tmp/qa-venv/bin/python lib/src/test/python/make_generation_references.py lib/src/test/resources/generation

Writes into the target folder:
    gpt2-tiny/          a seeded random GPT2LMHeadModel (2 layers, 4 heads, n_embd 64, n_positions 128) saved with
                        save_pretrained, with a byte-level BPE tokenizer (vocab 512) trained here with the tokenizers
                        library on the license texts of /usr/share/common-licenses (GPL-3, Apache-2.0), and a
                        generation_config.json. initializer_range is 0.2 (HF's init, wider than GPT-2's 0.02) so the
                        random model's next-token distributions are peaked: argmax and beam orders do not hinge on
                        1e-7 differences between libtorch builds.
    references.json     logits (prefill, incremental decode steps, left-padded batches), logits processors applied
                        one by one in HF's order (LogitsProcessorList from GenerationMixin._get_logits_processor) to
                        fixed inputs, and generate() outputs (token ids and decoded text) for greedy and beam search.
Sampling itself is not compared (torch's RNG is not Java's): the processed distributions it draws from are.
"""
import json
import math
import os
import sys

import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

torch.set_num_threads(1)
OUT = sys.argv[1] if len(sys.argv) > 1 else "lib/src/test/resources/generation"
MODEL_DIR = os.path.join(OUT, "gpt2-tiny")
EOS = "<|endoftext|>"


def floats(t):
    return [None if math.isinf(x) and x < 0 else x for x in t.reshape(-1).tolist()]


def make_tokenizer():
    files = ["/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0"]
    bpe = ByteLevelBPETokenizer()
    bpe.train(files, vocab_size=512, min_frequency=2, special_tokens=[EOS], show_progress=False)
    tok = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=EOS, eos_token=EOS, unk_token=EOS)
    tok.model_max_length = 128
    return tok


def main():
    os.makedirs(MODEL_DIR, exist_ok=True)
    tok = make_tokenizer()
    eos_id = tok.convert_tokens_to_ids(EOS)
    torch.manual_seed(1234)
    config = GPT2Config(vocab_size=len(tok), n_positions=128, n_embd=64, n_layer=2, n_head=4,
                        initializer_range=0.2, bos_token_id=eos_id, eos_token_id=eos_id)
    model = GPT2LMHeadModel(config).eval()
    model.generation_config = GenerationConfig(bos_token_id=eos_id, eos_token_id=eos_id)
    model.save_pretrained(MODEL_DIR)
    tok.save_pretrained(MODEL_DIR)
    for junk in ["vocab.json", "merges.txt", "special_tokens_map.json"]:
        p = os.path.join(MODEL_DIR, junk)
        if os.path.exists(p):
            os.remove(p)

    prompts = ["The licensee may copy", "Copyright", "You must give any other recipients of the Work a copy"]
    refs = {"eos_token_id": eos_id, "prompts": prompts,
            "prompt_ids": [tok(p)["input_ids"] for p in prompts]}

    with torch.no_grad():
        # Logits: prefill of one prompt, then three decode steps with the cache (greedy tokens fed back).
        ids = torch.tensor([refs["prompt_ids"][0]])
        out = model(ids, use_cache=True)
        steps = []
        past = out.past_key_values
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        mask = torch.ones_like(ids)
        for _ in range(3):
            mask = torch.cat([mask, torch.ones((1, 1), dtype=torch.long)], 1)
            o = model(nxt, past_key_values=past, attention_mask=mask,
                      position_ids=torch.tensor([[mask.shape[1] - 1]]), use_cache=True)
            steps.append({"input_id": int(nxt.item()), "logits": floats(o.logits[0, -1])})
            past = o.past_key_values
            nxt = o.logits[:, -1].argmax(-1, keepdim=True)
        refs["prefill"] = {"input_ids": ids[0].tolist(), "logits": floats(out.logits[0]), "steps": steps}

        # Logits of a left-padded batch (positions as generate() computes them), last position of each row.
        tok.padding_side = "left"
        tok.pad_token = tok.eos_token
        batch = tok(prompts, return_tensors="pt", padding=True)
        pos = batch["attention_mask"].long().cumsum(-1) - 1
        pos.masked_fill_(batch["attention_mask"] == 0, 1)
        o = model(batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=pos)
        refs["padded_batch"] = {"input_ids": batch["input_ids"].tolist(),
                                "attention_mask": batch["attention_mask"].tolist(),
                                "position_ids": pos.tolist(), "last_logits": floats(o.logits[:, -1])}

        # A token greedy decoding emits, used as a second eos and as a stop string.
        free = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=20, do_sample=False,
                              pad_token_id=eos_id)[0, ids.shape[1]:].tolist()
        counts = {t: free.count(t) for t in free if t != eos_id}
        frequent = max(counts, key=lambda t: (counts[t], -free.index(t)))
        third = free[3]
        refs["frequent_token"] = frequent
        stop_text = tok.decode([free[5]]).strip() or tok.decode([free[5]])

        refs["processors"] = processor_cases(model, eos_id)
        refs["generate"] = generate_cases(model, tok, eos_id, frequent, third, stop_text)

    with open(os.path.join(OUT, "references.json"), "w") as f:
        json.dump(refs, f, separators=(",", ":"))


def processor_cases(model, eos_id):
    """Each processor alone and all at once, as generate() builds the list, on fixed ids and scores."""
    g = torch.Generator().manual_seed(7)
    vocab = model.config.vocab_size
    input_ids = torch.tensor([[5, 7, 9, 7, 8, 11, 7], [3, 3, 4, 12, 13, 3, 4]])
    scores = torch.randn((2, vocab), generator=g) * 3
    cases = [
        ("temperature", dict(do_sample=True, temperature=0.7, top_k=0)),
        ("top_k", dict(do_sample=True, top_k=10)),
        ("top_p", dict(do_sample=True, top_p=0.8, top_k=0)),
        ("min_p", dict(do_sample=True, min_p=0.1, top_k=0)),
        ("typical_p", dict(do_sample=True, typical_p=0.9, top_k=0)),
        ("repetition_penalty", dict(repetition_penalty=1.3)),
        ("no_repeat_ngram_size", dict(no_repeat_ngram_size=2)),
        ("bad_words_ids", dict(bad_words_ids=[[5], [7, 8], [4, 12, 20]])),
        ("min_new_tokens", dict(min_new_tokens=3)),
        ("min_length", dict(min_length=10)),
        ("beam_top_k", dict(do_sample=True, num_beams=2, top_k=1)),
        ("all", dict(do_sample=True, temperature=0.8, top_k=40, top_p=0.9, min_p=0.02, typical_p=0.95,
                     repetition_penalty=1.2, no_repeat_ngram_size=3, bad_words_ids=[[5]], min_new_tokens=2)),
    ]
    out = []
    for name, kwargs in cases:
        gc = GenerationConfig(eos_token_id=eos_id, **kwargs)
        model._prepare_special_tokens(gc, True, device="cpu")
        procs = model._get_logits_processor(gc, input_ids_seq_length=5, encoder_input_ids=input_ids,
                                            device="cpu")
        s = scores.clone()
        stages = []
        for p in procs:
            s = p(input_ids, s)
            stages.append({"processor": type(p).__name__, "scores": floats(s)})
        out.append({"name": name, "options": kwargs, "prompt_length": 5, "input_ids": input_ids.tolist(),
                    "scores": floats(scores), "stages": stages})
    return out


def generate_cases(model, tok, eos_id, frequent, third, stop_text):
    prompts = ["The licensee may copy", "Copyright", "You must give any other recipients of the Work a copy"]
    cases = [
        ("greedy", [0], dict(max_new_tokens=20)),
        ("greedy_batch", [0, 1, 2], dict(max_new_tokens=12)),
        ("greedy_max_length", [1], dict(max_length=15)),
        ("greedy_several_eos", [0, 1, 2], dict(max_new_tokens=16, eos_token_id=[eos_id, third, frequent])),
        ("greedy_processors", [0, 1], dict(max_new_tokens=16, repetition_penalty=1.5, no_repeat_ngram_size=3,
                                           bad_words_ids=[[frequent]], min_new_tokens=4)),
        ("greedy_stop_strings", [0], dict(max_new_tokens=20, stop_strings=[stop_text])),
        ("beam", [0, 1], dict(max_new_tokens=10, num_beams=4, num_return_sequences=2, eos_token_id=frequent)),
        ("beam_early_stopping", [0, 2], dict(max_new_tokens=10, num_beams=3, early_stopping=True,
                                             length_penalty=0.5, eos_token_id=frequent)),
        ("beam_never", [1], dict(max_new_tokens=8, num_beams=3, early_stopping="never", length_penalty=2.0,
                                 num_return_sequences=3, eos_token_id=[eos_id, frequent])),
        ("beam_no_eos_hit", [0], dict(max_new_tokens=6, num_beams=2)),
    ]
    out = []
    for name, rows, kwargs in cases:
        batch = tok([prompts[r] for r in rows], return_tensors="pt", padding=True)
        extra = {"tokenizer": tok} if "stop_strings" in kwargs else {}
        res = model.generate(**batch, do_sample=False, return_dict_in_generate=True, output_scores=True,
                             **kwargs, **extra)
        case = {"name": name, "prompts": [prompts[r] for r in rows], "options": kwargs,
                "input_ids": batch["input_ids"].tolist(), "attention_mask": batch["attention_mask"].tolist(),
                "sequences": res.sequences.tolist(),
                "texts": tok.batch_decode(res.sequences, skip_special_tokens=True)}
        if getattr(res, "sequences_scores", None) is not None:
            case["sequences_scores"] = res.sequences_scores.tolist()
        out.append(case)
    return out


if __name__ == "__main__":
    main()
