"""References of GenerationBenchmarkTest: transformers' greedy generate() on the encoder-decoder checkpoints that
`bench generation` writes (GenerationBenchmark.ensureCheckpoint, seeded in Java), so the test can check that our
Generator + Seq2SeqScorer make the same tokens from the same folder, and that the folder is a complete HF checkpoint.

  bin/sparkformers bench generation --gen-models bart-tiny-random,t5-tiny-random --gen-dir DIR --rounds 1 ...
  /tmp/qa-venv/bin/python lib/src/test/python/make_generation_bench_references.py DIR \
      jobs/src/test/resources/io/sparkformers/jobs/bench/generation_bench_seq2seq.json

Source ids: the formula of GenerationBenchmark.promptIds ((31 i + 17 j + 5) mod vocab), batch 2, 32 ids each;
greedy, 8 new tokens, no EOS (both sides make exactly 8). Seeded N(0, 0.02) weights with tied embeddings make greedy
repeat the start token, so the tokens alone prove little: per step and row the logits at every 7th vocabulary index
are kept too (greedy's scores are the raw logits).
"""
import json
import os
import sys

import torch
from transformers import AutoModelForSeq2SeqLM

root, out_path = sys.argv[1], sys.argv[2]
BATCH, PROMPT, NEW = 2, 32, 8
out = {"batch": BATCH, "prompt": PROMPT, "new_tokens": NEW, "models": {}}
for name in ["bart-tiny-random", "t5-tiny-random"]:
    model, info = AutoModelForSeq2SeqLM.from_pretrained(
        os.path.join(root, name), dtype=torch.float32, output_loading_info=True)
    # every weight comes from the file (tied copies aside): nothing freshly initialised, nothing left over
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], (name, info)
    model.eval()
    vocab = model.config.vocab_size
    ids = torch.tensor([[(31 * i + 17 * j + 5) % vocab for j in range(PROMPT)] for i in range(BATCH)])
    with torch.inference_mode():
        seq = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=NEW, min_new_tokens=NEW,
                             do_sample=False, num_beams=1, eos_token_id=None, pad_token_id=0,
                             forced_eos_token_id=None, forced_bos_token_id=None, output_scores=True,
                             return_dict_in_generate=True)
    out["models"][name] = {
        "sequences": seq.sequences.tolist(),
        # [step][row][k]: logits of vocabulary index 7 k
        "logits_every_7th": [[[float(x) for x in row[::7]] for row in step] for step in seq.scores],
    }
with open(out_path, "w") as f:
    json.dump(out, f)
    f.write("\n")
print(json.dumps(out))
