"""Reference outputs for the question-answering parity test, from Python transformers 4.57.6.

transformers 5.x dropped the question-answering pipeline, so this needs 4.57.6 (see DESIGN.md, "Python transformers
as a reference"):

    python3 -m venv /tmp/qa-venv
    /tmp/qa-venv/bin/pip install "torch==2.13.0+cpu" safetensors tokenizers requests \
        huggingface-hub numpy regex pyyaml packaging filelock tqdm
    /tmp/qa-venv/bin/pip install --no-deps "transformers==4.57.6" "tokenizers==0.22.2"
    sed -i 's/"huggingface-hub>=0.34.0,<1.0"/"huggingface-hub>=0.34.0"/' \
        /tmp/qa-venv/lib/python3*/site-packages/transformers/dependency_versions_table.py

    # the built-in alias all-MiniLM-L6-v2 as the lib tests import it (run any MiniLM test once first)
    /tmp/qa-venv/bin/python lib/src/test/python/make_qa_references.py \
        lib/target/sparkformers-home/models/all-MiniLM-L6-v2 lib/src/test/resources/qa

No fine-tuned QA weights exist offline, so the model is the real all-MiniLM-L6-v2 encoder under a seeded random
qa_outputs Linear (normal, std 0.02 as HF's _init_weights, times HEAD_SCALE so that start/end logits are peaked and
the ranking is not a sea of near-ties). Writes into the output folder:
    qa_outputs.safetensors  the head (qa_outputs.weight (2, 384), qa_outputs.bias (2,)); the Java test puts it on
                            the same base folder the same way as build_checkpoint below
    references.json         one entry per case: the pipeline options, the (question, context) inputs and
                            transformers' answers per input, always as a list (HF returns a bare dict for one answer).
                            start/end are Python string indices (Unicode code points).
"""
import json
import os
import shutil
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

import transformers
from transformers import AutoModelForQuestionAnswering, AutoTokenizer, pipeline

SEED = 22
HEAD_SCALE = 20.0

# An invented text, long enough for several windows at the default max_seq_len 384 / doc_stride 128
LONG = " ".join([
    "The town of Elmbridge sits on the northern bank of the river Calder, about forty kilometres from the coast.",
    "It was founded in 1204 by wool merchants who built the first stone bridge across the river.",
    "The bridge was rebuilt in 1788 after a flood destroyed three of its five arches.",
    "Today the town has around 23,000 inhabitants and is known for its annual lantern festival, held every October.",
    "The festival was started in 1952 by a schoolteacher named Margaret Holloway, who wanted to brighten the long",
    "autumn evenings. During the festival, children carry paper lanterns shaped like animals through the old market",
    "square, and a brass band plays on the steps of the town hall.",
    "The town hall itself was designed by the architect Samuel Pritchard and completed in 1869; its clock tower is",
    "thirty-two metres tall and can be seen from every street in the centre.",
    "Elmbridge's economy depended on textiles for six centuries. The largest mill, Calder Works, employed more than",
    "two thousand people at its peak in 1911, spinning cotton imported through the port of Liverpool.",
    "The mill closed in 1979, and the building now houses a museum, a library and forty small workshops.",
    "The museum's most famous exhibit is a steam engine called Victoria, built in 1885, which still runs on the first",
    "Sunday of every month.",
    "The railway reached Elmbridge in 1847, linking it to Leeds and Manchester. The station has two platforms and a",
    "cast-iron footbridge painted dark green.",
    "Local schools include Holloway Primary, named after the festival's founder, and Elmbridge Grammar School, which",
    "was established in 1556 and counts the poet Edward Lyle among its former pupils.",
    "Lyle wrote his best-known collection, The Quiet Water, while living in a cottage by the river in the 1930s.",
    "The surrounding hills are popular with walkers. The highest point, Raven Crag, rises to 512 metres and offers",
    "views of three counties on a clear day.",
    "A footpath called the Weavers' Way follows the old packhorse route over the moor to the neighbouring village of",
    "Thornley, a distance of eleven kilometres.",
    "The town's football club, Elmbridge Rovers, was formed in 1889 and plays its home games at Mill Lane, a ground",
    "with room for 4,500 spectators.",
    "The club's greatest success came in 1927, when it reached the final of the county cup and lost to Halbury by two",
    "goals to one.",
    "Every spring the town council organises a clean-up of the riverbanks, and volunteers plant willow trees to",
    "protect the banks from erosion.",
    "In 2019 the council opened a new cycle path along the river, running twelve kilometres from the town centre to",
    "the reservoir at Greenhead.",
    "The reservoir was built in 1901 to supply drinking water to the mills and the growing population.",
    "It holds about nine million cubic metres of water and is now a nature reserve where herons and kingfishers nest.",
])

SHORT = "Ann met Bob in Paris on Tuesday. They ate croissants near the Louvre and talked about music."
ACCENTS = ("Zoë Müller flew from Zürich to São Paulo in 2021 to study the café culture of the city. "
           "Her colleague, François Dubois, stayed behind in Genève.")
EMOJI = ("The party 🎉 started at nine 🕘 and the cake 🎂 was made by Chloé. "
         "Later the band 🎸 played until midnight in the garden 🌳 behind the house.")
CJK = ("東京 is the capital of Japan and 北京 is the capital of China. "
       "The word 寿司 means sushi, and Mount 富士 is the highest mountain in Japan at 3,776 metres.")
MIXED_LONG = (EMOJI + " " + ACCENTS + " " + CJK + " ") * 6
CASES_TEXT = ("The river Calder flows past the town. The Calder is slow, and calder water is brown. "
              "In spring the CALDER floods the meadows, and the Calder Valley railway closes.")

CASES = [
    # name, options, [(question, context)]
    ("short_default", {}, [("Where did Ann meet Bob?", SHORT)]),
    ("short_top_k_5", {"top_k": 5}, [("What did they eat?", SHORT)]),
    ("short_impossible", {"handle_impossible_answer": True}, [("Who is the president?", SHORT)]),
    ("short_impossible_top_k_3", {"handle_impossible_answer": True, "top_k": 3},
     [("When did they meet?", SHORT)]),
    ("long_default", {}, [("When was the town hall completed?", LONG)]),
    ("long_top_k_10", {"top_k": 10}, [("Who started the lantern festival?", LONG)]),
    ("long_impossible_top_k_4", {"top_k": 4, "handle_impossible_answer": True},
     [("How tall is the clock tower?", LONG)]),
    ("long_max_answer_len_4", {"top_k": 5, "max_answer_len": 4}, [("What is the engine called?", LONG)]),
    ("long_small_windows", {"max_seq_len": 64, "doc_stride": 16}, [("Where does the cycle path run?", LONG)]),
    ("long_small_windows_top_k_5", {"max_seq_len": 64, "doc_stride": 16, "top_k": 5},
     [("What was founded in 1889?", LONG)]),
    ("long_tiny_windows_top_k_3", {"max_seq_len": 32, "doc_stride": 8, "top_k": 3},
     [("Which poet studied there?", LONG)]),
    ("long_wide_stride_top_k_3", {"max_seq_len": 48, "doc_stride": 30, "top_k": 3},
     [("How high is Raven Crag?", LONG)]),
    ("long_window_512_stride_200", {"max_seq_len": 512, "doc_stride": 200, "top_k": 3},
     [("What does the museum house?", LONG)]),
    ("accents_top_k_5", {"top_k": 5}, [("Where did Zoë fly to?", ACCENTS)]),
    ("emoji_top_k_5", {"top_k": 5}, [("Who made the cake?", EMOJI)]),
    ("cjk_top_k_5", {"top_k": 5}, [("What is the capital of Japan?", CJK)]),
    ("mixed_long_small_windows_top_k_5", {"max_seq_len": 40, "doc_stride": 12, "top_k": 5},
     [("Who stayed behind in Genève?", MIXED_LONG)]),
    ("mixed_long_impossible_top_k_3", {"max_seq_len": 96, "doc_stride": 32, "top_k": 3,
                                       "handle_impossible_answer": True},
     [("What does 寿司 mean?", MIXED_LONG)]),
    ("short_top_k_25", {"top_k": 25}, [("Who did Ann meet?", SHORT)]),
    ("case_variants_top_k_6", {"top_k": 6}, [("Which river flows past the town?", CASES_TEXT)]),
    # no truncation needed: HF answers although the question leaves fewer than doc_stride tokens per window
    ("question_fills_small_window", {"max_seq_len": 32, "doc_stride": 16},
     [("what is the name of the very old stone bridge in the town please", "Ann met Bob in Paris.")]),
    # HF's fast path never truncates the question (max_question_len is ignored there; Sparkformers refuses
    # longer questions, so the option is raised here)
    ("long_question_top_k_3", {"max_question_len": 100, "top_k": 3},
     [("why " * 70 + "did the mill close?", LONG)]),
    ("long_no_overlap_top_k_3", {"max_seq_len": 64, "doc_stride": 0, "top_k": 3},
     [("Who wrote The Quiet Water?", LONG)]),
    ("batch_default", {}, [
        ("Where did Ann meet Bob?", SHORT),
        ("When was the bridge rebuilt?", LONG),
        ("Who made the cake?", EMOJI),
        ("What is the highest mountain in Japan?", CJK),
    ]),
    ("batch_small_windows_top_k_3", {"max_seq_len": 48, "doc_stride": 16, "top_k": 3}, [
        ("What did they talk about?", SHORT),
        ("Where do herons nest?", LONG),
        ("Who flew to São Paulo?", ACCENTS),
        ("What is the capital of China?", MIXED_LONG),
    ]),
    ("batch_impossible_top_k_2", {"top_k": 2, "handle_impossible_answer": True, "max_seq_len": 128,
                                  "doc_stride": 32}, [
        ("Who is the mayor?", LONG),
        ("Where is the Louvre?", SHORT),
    ]),
]


def build_checkpoint(base_dir, out_dir, head):
    """The base encoder under the 'bert.' prefix of BertForQuestionAnswering plus the head, tokenizer files copied."""
    weights = {"bert." + k: v for k, v in load_file(os.path.join(base_dir, "model.safetensors")).items()}
    weights.update(head)
    with open(os.path.join(base_dir, "config.json")) as f:
        config = json.load(f)
    config["architectures"] = ["BertForQuestionAnswering"]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    save_file(weights, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(base_dir, name), out_dir)


def main(base_dir, out_dir):
    assert transformers.__version__ == "4.57.6", transformers.__version__
    torch.manual_seed(SEED)
    hidden = json.load(open(os.path.join(base_dir, "config.json")))["hidden_size"]
    head = {
        "qa_outputs.weight": (torch.randn(2, hidden) * 0.02 * HEAD_SCALE).contiguous(),
        "qa_outputs.bias": torch.zeros(2),
    }
    os.makedirs(out_dir, exist_ok=True)
    save_file(head, os.path.join(out_dir, "qa_outputs.safetensors"))
    with tempfile.TemporaryDirectory() as tmp:
        build_checkpoint(base_dir, tmp, head)
        model = AutoModelForQuestionAnswering.from_pretrained(tmp).eval()
        tokenizer = AutoTokenizer.from_pretrained(tmp)
        assert tokenizer.is_fast and tokenizer.padding_side == "right"
        qa = pipeline("question-answering", model=model, tokenizer=tokenizer, device="cpu")
        cases = []
        for name, options, pairs in CASES:
            expected = []
            for question, context in pairs:
                # one call per input, the pipeline's default batch_size 1: windows unpadded
                out = qa(question=question, context=context, **options)
                answers = out if isinstance(out, list) else [out]
                expected.append([{"score": float(a["score"]), "start": int(a["start"]), "end": int(a["end"]),
                                  "answer": a["answer"]} for a in answers])
            if len(pairs) > 1:
                # HF's batched call pads windows of different inputs together: the same answers
                batched = qa(question=[q for q, _ in pairs], context=[c for _, c in pairs], batch_size=3, **options)
                batched = [b if isinstance(b, list) else [b] for b in batched]
                for one, many in zip(expected, batched):
                    assert [(a["start"], a["end"], a["answer"]) for a in one] == \
                           [(a["start"], a["end"], a["answer"]) for a in many], (name, one, many)
                    assert all(abs(a["score"] - b["score"]) <= 1e-5 * abs(a["score"]) + 1e-7
                               for a, b in zip(one, many)), (name, one, many)
            windows = [len(tokenizer(q, c, truncation="only_second", max_length=options.get("max_seq_len", 384),
                                     stride=options.get("doc_stride", min(options.get("max_seq_len", 384) // 2, 128)),
                                     return_overflowing_tokens=True)["input_ids"]) for q, c in pairs]
            cases.append({"name": name, "options": options, "windows": windows,
                          "inputs": [{"question": q, "context": c} for q, c in pairs], "expected": expected})
            print(name, windows, [[(a["answer"], round(a["score"], 4)) for a in e] for e in expected])
    with open(os.path.join(out_dir, "references.json"), "w", encoding="utf-8") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "seed": SEED,
                   "head_scale": HEAD_SCALE, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
