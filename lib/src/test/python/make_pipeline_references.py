"""Reference outputs for PipelineParityTest: Python transformers 4.57.6 pipelines on the encoder tasks.

Needs the same Python environment as make_qa_references.py (see its docstring and DESIGN.md, "Python transformers
as a reference"), then, after any lib test run has imported the built-in aliases into lib/target/sparkformers-home:

    /tmp/qa-venv/bin/python lib/src/test/python/make_pipeline_references.py \
        lib/target/sparkformers-home/models lib/src/test/resources/parity

No fine-tuned heads for these tasks exist offline, so the classification, token-classification and NLI models are
the real all-MiniLM-L6-v2 encoder under seeded random heads (normal, std 0.02 as HF's _init_weights, times a scale
so that scores are spread and not a sea of near-ties). The MiniLM checkpoint has no pooler (it was exported for
sentence embeddings), so the sequence-classification heads share one seeded random pooler. fill-mask runs on the
real bert-base-uncased with its own MLM head; feature-extraction on the real all-MiniLM-L6-v2 and bge-small-en-v1.5.

Writes into the output folder:
    heads/*.safetensors  the random heads, keys as they appear in the assembled checkpoint
    references.json      "checkpoints": how each checkpoint is assembled (a built-in alias as base, its weights
                         under "bert.", the head files, config.json overrides); "cases": one per task x option set,
                         with the HF keyword arguments, the inputs and HF's output per input (always one entry per
                         input). Character offsets are Python string indices (Unicode code points). feature-extraction
                         outputs are summarised per token row: [first, second, last, sum, L2 norm].
A case with "note" matches with an HF option the project applies by default. A case with "differs" is one where
Sparkformers deliberately answers otherwise: "reason" says why, "error" is a piece of the error message the project
gives instead (HF's output is kept for the record; {"hf_error": message} where HF refuses the input too).

RoBERTa's own heads (RobertaForSequenceClassification, RobertaForMaskedLM) are written by a separate mode that
touches nothing else (see ROBERTA_HEADS_CASES):

    /tmp/qa-venv/bin/python lib/src/test/python/make_pipeline_references.py --roberta-heads lib/src/test/resources/parity
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file, save_file

import transformers
from transformers import (AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification,
                          AutoModelForTokenClassification, AutoTokenizer, pipeline)

SEED = 22

IOB = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
BIOES = ["O"] + [p + "-" + t for t in ("PER", "LOC", "ORG") for p in ("B", "I", "E", "S")]
NLI_MNLI = ["contradiction", "neutral", "entailment"]      # bart-large-mnli's layout
NLI_ENTAIL_FIRST = ["entailment", "neutral", "contradiction"]   # entailment at id 0: contradiction is the last id


def labels_config(labels, problem_type=None):
    c = {"id2label": {str(i): l for i, l in enumerate(labels)}, "label2id": {l: i for i, l in enumerate(labels)}}
    if problem_type:
        c["problem_type"] = problem_type
    return c


# name -> base alias, architecture, head files (under heads/), config.json overrides; no architecture: the base as is
CHECKPOINTS = {
    "minilm-sentiment": ("all-MiniLM-L6-v2", "BertForSequenceClassification", ["pooler", "sentiment"],
                         labels_config(["negative", "neutral", "positive"])),
    "minilm-topics-multilabel": ("all-MiniLM-L6-v2", "BertForSequenceClassification", ["pooler", "topics"],
                                 labels_config(["sport", "politics", "science", "art"], "multi_label_classification")),
    "minilm-regression": ("all-MiniLM-L6-v2", "BertForSequenceClassification", ["pooler", "regression"],
                          labels_config(["LABEL_0"], "regression")),
    "minilm-two-labels-unnamed": ("all-MiniLM-L6-v2", "BertForSequenceClassification", ["pooler", "pair"], {}),
    "minilm-ner-iob": ("all-MiniLM-L6-v2", "BertForTokenClassification", ["ner_iob"], labels_config(IOB)),
    "minilm-ner-bioes": ("all-MiniLM-L6-v2", "BertForTokenClassification", ["ner_bioes"], labels_config(BIOES)),
    "minilm-nli": ("all-MiniLM-L6-v2", "BertForSequenceClassification", ["pooler", "nli"], labels_config(NLI_MNLI)),
    "minilm-nli-entailment-first": ("all-MiniLM-L6-v2", "BertForSequenceClassification", ["pooler", "nli"],
                                    labels_config(NLI_ENTAIL_FIRST)),
    "bert-base-uncased": ("bert-base-uncased", None, [], {}),
    "all-MiniLM-L6-v2": ("all-MiniLM-L6-v2", None, [], {}),
    "bge-small-en-v1.5": ("bge-small-en-v1.5", None, [], {}),
    # seeded random tiny checkpoints of the other encoder families, committed whole under tiny/ (see make_tiny)
    "tiny-distilbert-mlm": ("tiny/distilbert-mlm", None, [], {}),
    "tiny-distilbert-sentiment": ("tiny/distilbert-sentiment", None, [], {}),
    "tiny-distilbert-ner": ("tiny/distilbert-ner", None, [], {}),
    "tiny-roberta-ner": ("tiny/roberta-ner", None, [], {}),
}

# Tiny random checkpoints (seeded): DistilBERT with a WordPiece vocabulary and RoBERTa with a byte-level BPE one,
# both trained here by the tokenizers library on the case texts below plus a small corpus (400 entries: the committed
# folders stay ~100 KB each). Weights are HF's own random init with initializer_range 0.5 so that scores are spread.
TINY_VOCAB = 400
TINY = {"dim": 32, "layers": 2, "heads": 4, "ffn": 64, "positions": 258, "init": 0.5}


def random_heads(hidden):
    """Seeded heads, drawn in a fixed order: name -> {checkpoint key: tensor}."""
    torch.manual_seed(SEED)

    def linear(prefix, out_features, scale):
        return {prefix + ".weight": (torch.randn(out_features, hidden) * 0.02 * scale).contiguous(),
                prefix + ".bias": (torch.randn(out_features) * 0.02 * scale).contiguous()}

    return {
        "pooler": linear("bert.pooler.dense", hidden, 4.0),
        "sentiment": linear("classifier", 3, 8.0),
        "topics": linear("classifier", 4, 8.0),
        "regression": linear("classifier", 1, 8.0),
        "pair": linear("classifier", 2, 8.0),
        "ner_iob": linear("classifier", len(IOB), 12.0),
        "ner_bioes": linear("classifier", len(BIOES), 12.0),
        "nli": linear("classifier", 3, 8.0),
    }


def tiny_corpus():
    extra = ["the capital of france is paris and the capital of japan is tokyo.",
             "a man is playing a guitar while someone is making music in the park.",
             "stock markets fell sharply on tuesday after the announcement of the bank.",
             "hello i'm a fashion model, said the supermodel in london and berlin."]
    return VARIED + [p["text"] + " " + p["text_pair"] for p in PAIRS] + MASKED + extra * 3


def tiny_wordpiece():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers, decoders
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(tiny_corpus(), trainers.WordPieceTrainer(vocab_size=TINY_VOCAB, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    from transformers import DistilBertTokenizerFast
    return DistilBertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                                   cls_token="[CLS]", mask_token="[MASK]", do_lower_case=True,
                                   model_max_length=TINY["positions"])


def tiny_byte_level_bpe():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers, decoders
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.train_from_iterator(tiny_corpus(), trainers.BpeTrainer(
        vocab_size=TINY_VOCAB, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=False)
    from transformers import RobertaTokenizerFast
    return RobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                add_prefix_space=False, trim_offsets=True, model_max_length=TINY["positions"] - 2)


def make_tiny(out_dir):
    """The committed tiny checkpoints (seeded): written into out_dir/tiny/<name>."""
    from transformers import (DistilBertConfig, DistilBertForMaskedLM, DistilBertForSequenceClassification,
                              DistilBertForTokenClassification, RobertaConfig, RobertaForTokenClassification)
    t = TINY
    wordpiece = tiny_wordpiece()
    bpe = tiny_byte_level_bpe()
    distil = dict(vocab_size=len(wordpiece), dim=t["dim"], n_layers=t["layers"], n_heads=t["heads"],
                  hidden_dim=t["ffn"], max_position_embeddings=t["positions"], initializer_range=t["init"],
                  pad_token_id=wordpiece.pad_token_id)
    roberta = dict(vocab_size=len(bpe), hidden_size=t["dim"], num_hidden_layers=t["layers"],
                   num_attention_heads=t["heads"], intermediate_size=t["ffn"], max_position_embeddings=t["positions"],
                   initializer_range=t["init"], pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1)
    made = [
        ("distilbert-mlm", DistilBertForMaskedLM(DistilBertConfig(**distil)), wordpiece),
        ("distilbert-sentiment", DistilBertForSequenceClassification(DistilBertConfig(
            **distil, **labels_config(["negative", "neutral", "positive"]))), wordpiece),
        ("distilbert-ner", DistilBertForTokenClassification(DistilBertConfig(**distil, **labels_config(BIOES))),
         wordpiece),
        ("roberta-ner", RobertaForTokenClassification(RobertaConfig(**roberta, **labels_config(IOB))), bpe),
    ]
    for name, model, tokenizer in made:
        folder = os.path.join(out_dir, "tiny", name)
        shutil.rmtree(folder, ignore_errors=True)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        for extra in ("vocab.txt", "vocab.json", "merges.txt", "special_tokens_map.json"):
            if os.path.exists(os.path.join(folder, extra)):
                os.remove(os.path.join(folder, extra))      # tokenizer.json holds them all


def build_checkpoint(base_dir, out_dir, architecture, heads, overrides):
    """The base encoder under 'bert.', the heads, config.json with the architecture and overrides, tokenizer files."""
    weights = {"bert." + k: v for k, v in load_file(os.path.join(base_dir, "model.safetensors")).items()}
    for h in heads:
        weights.update(h)
    with open(os.path.join(base_dir, "config.json")) as f:
        config = json.load(f)
    config["architectures"] = [architecture]
    config.update(overrides)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    save_file(weights, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(base_dir, name), out_dir)


SHORT = "I loved the film, but the ending was far too long."
ACCENTS = "Zoë Müller flew from Zürich to São Paulo to study the café culture with François Dubois."
EMOJI = "The party 🎉 started at nine 🕘 and Chloé baked the cake 🎂 for Ana."
CJK = "東京 is the capital of Japan, and 北京 is the capital of China; 寿司 means sushi."
PUNCT = "Wait... what?! (Really?) Dr. O'Neil-Smith & Co. paid $4,500.00 -- on 12/03/2021; see e-mail: a@b.com!"
LONG_WORDS = ("Pneumonoultramicroscopicsilicovolcanoconiosis and antidisestablishmentarianism baffled "
              "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch's postmaster, "
              "Mr. Hippopotomonstrosesquippedalian.")
NEWS = ("Angela Merkel met Emmanuel Macron in Berlin on Monday to discuss the Airbus order "
        "with Lufthansa.")
LONG_TEXT = " ".join(
    ["The committee reviewed the quarterly report, discussed the budget, and agreed to meet again."] * 50)
VARIED = [SHORT, ACCENTS, EMOJI, CJK, PUNCT, LONG_WORDS, NEWS, "Great!"]
PAIRS = [
    {"text": "A man is playing a guitar.", "text_pair": "Someone is making music."},
    {"text": "The cat sat on the mat.", "text_pair": "Stock markets fell sharply on Tuesday after the announcement."},
    {"text": "Zoë visited São Paulo 🎉", "text_pair": "東京 is far from Brazil."},
]
MASKED = [
    "The capital of France is [MASK].",
    "Hello I'm a [MASK] model.",
    "Zoë flew to [MASK] to drink café au lait 🎉.",
    "The [MASK] sat on the [MASK] all day.",
    "東京 is the [MASK] of Japan.",
]
FEATURE_TEXTS = [SHORT, ACCENTS, EMOJI, CJK, "Great!"]

EMPTY = "the project refuses empty and whitespace-only texts (HF runs them as just the special tokens)"
NO_TRUNCATION_HF = ("HF does not truncate by default (a text over 512 tokens fails in the model); "
                    "the project truncates to the checkpoint's max_length, which equals HF with truncation=True")

# name, task, checkpoint, HF keyword arguments, inputs[, differs]
CASES = [
    ("tc_single_default", "text-classification", "minilm-sentiment", {}, VARIED),
    ("tc_single_top_k_1", "text-classification", "minilm-sentiment", {"top_k": 1}, VARIED),
    ("tc_single_top_k_3", "text-classification", "minilm-sentiment", {"top_k": 3}, VARIED),
    ("tc_single_top_k_all", "text-classification", "minilm-sentiment", {"top_k": None}, VARIED),
    ("tc_single_sigmoid_all", "text-classification", "minilm-sentiment",
     {"top_k": None, "function_to_apply": "sigmoid"}, VARIED),
    ("tc_single_none_all", "text-classification", "minilm-sentiment",
     {"top_k": None, "function_to_apply": "none"}, VARIED),
    ("tc_single_text_pair_all", "text-classification", "minilm-sentiment", {"top_k": None}, PAIRS),
    ("tc_single_long_text", "text-classification", "minilm-sentiment", {"top_k": None, "truncation": True},
     [LONG_TEXT, SHORT], {"note": NO_TRUNCATION_HF}),
    ("tc_multilabel_default", "text-classification", "minilm-topics-multilabel", {}, VARIED),
    ("tc_multilabel_top_k_all", "text-classification", "minilm-topics-multilabel", {"top_k": None}, VARIED),
    ("tc_multilabel_top_k_3", "text-classification", "minilm-topics-multilabel", {"top_k": 3}, VARIED),
    ("tc_multilabel_softmax_all", "text-classification", "minilm-topics-multilabel",
     {"top_k": None, "function_to_apply": "softmax"}, VARIED),
    ("tc_regression_default", "text-classification", "minilm-regression", {}, VARIED),
    ("tc_regression_top_k_all", "text-classification", "minilm-regression", {"top_k": None}, VARIED),
    ("tc_regression_sigmoid", "text-classification", "minilm-regression", {"function_to_apply": "sigmoid"}, VARIED),
    ("tc_unnamed_labels_all", "text-classification", "minilm-two-labels-unnamed", {"top_k": None}, VARIED),
    ("tc_unnamed_labels_text_pair", "text-classification", "minilm-two-labels-unnamed", {}, PAIRS),
    ("tc_empty_text", "text-classification", "minilm-sentiment", {}, [SHORT, ""],
     {"reason": EMPTY, "error": "row 1: text is empty"}),
]
for ckpt in ("minilm-ner-iob", "minilm-ner-bioes"):
    short = "iob" if ckpt.endswith("iob") else "bioes"
    for strategy in ("none", "simple", "first", "average", "max"):
        CASES.append((f"ner_{short}_{strategy}", "token-classification", ckpt,
                      {"aggregation_strategy": strategy}, VARIED))
    CASES.append((f"ner_{short}_none_ignore_nothing", "token-classification", ckpt,
                  {"aggregation_strategy": "none", "ignore_labels": []}, VARIED))
    CASES.append((f"ner_{short}_simple_ignore_nothing", "token-classification", ckpt,
                  {"aggregation_strategy": "simple", "ignore_labels": []}, VARIED))
    CASES.append((f"ner_{short}_first_ignore_per_loc", "token-classification", ckpt,
                  {"aggregation_strategy": "first", "ignore_labels": ["O", "B-PER", "I-PER", "S-LOC", "LOC"]},
                  VARIED))
CASES += [
    ("ner_iob_empty_text", "token-classification", "minilm-ner-iob", {"aggregation_strategy": "simple"},
     [NEWS, "   "], {"reason": EMPTY, "error": "row 1: text is whitespace only"}),
    ("zs_single", "zero-shot-classification", "minilm-nli",
     {"candidate_labels": ["politics", "sport", "cooking", "travel"]}, VARIED),
    ("zs_multi_label", "zero-shot-classification", "minilm-nli",
     {"candidate_labels": ["politics", "sport", "cooking", "travel"], "multi_label": True}, VARIED),
    ("zs_template", "zero-shot-classification", "minilm-nli",
     {"candidate_labels": ["happy", "sad", "angry"], "hypothesis_template": "The writer of this text feels {}."},
     VARIED),
    ("zs_template_multi_label", "zero-shot-classification", "minilm-nli",
     {"candidate_labels": ["happy", "sad", "angry"], "hypothesis_template": "Dieser Text handelt von {}.",
      "multi_label": True}, VARIED),
    ("zs_one_label", "zero-shot-classification", "minilm-nli", {"candidate_labels": ["urgent"]}, VARIED),
    ("zs_unicode_labels", "zero-shot-classification", "minilm-nli",
     {"candidate_labels": ["café 🎉", "東京", "São Paulo"]}, VARIED),
    ("zs_entailment_first_single", "zero-shot-classification", "minilm-nli-entailment-first",
     {"candidate_labels": ["politics", "sport", "cooking"]}, VARIED),
    ("zs_entailment_first_multi_label", "zero-shot-classification", "minilm-nli-entailment-first",
     {"candidate_labels": ["politics", "sport", "cooking"], "multi_label": True}, VARIED),
    ("zs_empty_text", "zero-shot-classification", "minilm-nli", {"candidate_labels": ["politics", "sport"]},
     [SHORT, ""], {"reason": EMPTY, "error": "row 1: text is empty"}),
    ("fm_default", "fill-mask", "bert-base-uncased", {}, MASKED),
    ("fm_top_k_1", "fill-mask", "bert-base-uncased", {"top_k": 1}, MASKED),
    ("fm_top_k_12", "fill-mask", "bert-base-uncased", {"top_k": 12}, MASKED[:3]),
    ("fm_targets", "fill-mask", "bert-base-uncased", {"targets": ["paris", "london", "tokyo", "berlin"]},
     MASKED[:3]),
    ("fm_targets_top_k_2", "fill-mask", "bert-base-uncased",
     {"targets": ["paris", "london", "tokyo", "berlin"], "top_k": 2}, MASKED[:3]),
    ("fm_targets_case_and_pieces", "fill-mask", "bert-base-uncased",
     {"targets": ["Paris", "fashion", "supermodel", "café"]}, MASKED[:3]),
    ("fm_targets_duplicate", "fill-mask", "bert-base-uncased", {"targets": ["paris", "Paris", "london"]},
     MASKED[:1]),
    ("fm_targets_vocabulary_entries", "fill-mask", "bert-base-uncased",
     {"targets": ["##s", "##ing", "[UNK]", "fashion", "Super"]}, MASKED[:3]),
    ("fe_minilm", "feature-extraction", "all-MiniLM-L6-v2", {}, FEATURE_TEXTS),
    ("fe_bge_small", "feature-extraction", "bge-small-en-v1.5", {}, FEATURE_TEXTS),
    ("fe_minilm_long_text", "feature-extraction", "all-MiniLM-L6-v2", {"truncation": True}, [LONG_TEXT],
     {"note": NO_TRUNCATION_HF}),
    ("fe_empty_text", "feature-extraction", "all-MiniLM-L6-v2", {}, [""], {"reason": EMPTY,
                                                                          "error": "row 0: text is empty"}),
]

TINY_MASKED = [m.replace("[MASK]", "<mask>") for m in MASKED]
for strategy in ("none", "simple", "first", "average", "max"):
    CASES.append((f"tiny_roberta_ner_{strategy}", "token-classification", "tiny-roberta-ner",
                  {"aggregation_strategy": strategy, "ignore_labels": []}, VARIED))
    CASES.append((f"tiny_distilbert_ner_{strategy}", "token-classification", "tiny-distilbert-ner",
                  {"aggregation_strategy": strategy, "ignore_labels": []}, VARIED))
CASES += [
    ("tiny_roberta_ner_default", "token-classification", "tiny-roberta-ner", {}, VARIED),
    ("tiny_roberta_features", "feature-extraction", "tiny-roberta-ner", {}, FEATURE_TEXTS),
    ("tiny_distilbert_tc_default", "text-classification", "tiny-distilbert-sentiment", {}, VARIED),
    ("tiny_distilbert_tc_top_k_all", "text-classification", "tiny-distilbert-sentiment", {"top_k": None}, VARIED),
    ("tiny_distilbert_tc_sigmoid", "text-classification", "tiny-distilbert-sentiment",
     {"top_k": 2, "function_to_apply": "sigmoid"}, VARIED),
    ("tiny_distilbert_tc_text_pair", "text-classification", "tiny-distilbert-sentiment", {"top_k": None}, PAIRS),
    ("tiny_distilbert_fm_default", "fill-mask", "tiny-distilbert-mlm", {}, MASKED),
    ("tiny_distilbert_fm_targets", "fill-mask", "tiny-distilbert-mlm", {"targets": ["paris", "tokyo", "music"]},
     MASKED[:3]),
    ("tiny_distilbert_features", "feature-extraction", "tiny-distilbert-mlm", {}, FEATURE_TEXTS),
]

MODEL_CLASSES = {"text-classification": AutoModelForSequenceClassification,
                 "zero-shot-classification": AutoModelForSequenceClassification,
                 "token-classification": AutoModelForTokenClassification,
                 "fill-mask": AutoModelForMaskedLM, "feature-extraction": AutoModel}


def to_plain(x):
    """HF outputs as JSON values: numpy scalars to Python numbers."""
    if isinstance(x, dict):
        return {k: to_plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_plain(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x)
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    return x


def feature_summary(out):
    rows = np.asarray(out, dtype=np.float64)[0]       # [1][T][H]
    return {"tokens": rows.shape[0], "hidden": rows.shape[1],
            "rows": [[r[0], r[1], r[-1], r.sum(), np.sqrt((r * r).sum())] for r in rows]}


def run_case(pipe, task, options, inputs):
    expected = []
    for one in inputs:
        try:
            expected.append(to_plain(run_one(pipe, task, options, one)))
        except ValueError as e:          # HF refuses it too: its message for the record
            expected.append({"hf_error": str(e)})
    return expected


def run_one(pipe, task, options, one):
    """HF's output for one input. zero-shot and fill-mask unwrap a list of one, so they get the bare input."""
    if task in ("zero-shot-classification", "fill-mask"):
        return pipe(one, **options)
    if task == "feature-extraction":
        return feature_summary(pipe(one, **options))
    return pipe([one], **options)[0]


def main(models_dir, out_dir):
    assert transformers.__version__ == "4.57.6", transformers.__version__
    torch.set_num_threads(1)
    hidden = json.load(open(os.path.join(models_dir, "all-MiniLM-L6-v2", "config.json")))["hidden_size"]
    heads = random_heads(hidden)
    os.makedirs(os.path.join(out_dir, "heads"), exist_ok=True)
    for name, tensors in heads.items():
        save_file(tensors, os.path.join(out_dir, "heads", name + ".safetensors"))
    torch.manual_seed(SEED)
    make_tiny(out_dir)
    pipes = {}
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            name, task, ckpt, options, inputs = case[:5]
            differs = case[5] if len(case) > 5 else None
            base, architecture, head_names, overrides = CHECKPOINTS[ckpt]
            key = (ckpt, task)
            if key not in pipes:
                folder = os.path.join(out_dir if base.startswith("tiny/") else models_dir, base)
                if architecture:
                    folder = os.path.join(tmp, ckpt)
                    if not os.path.isdir(folder):
                        build_checkpoint(os.path.join(models_dir, base), folder, architecture,
                                         [heads[h] for h in head_names], overrides)
                model = MODEL_CLASSES[task].from_pretrained(folder).eval()
                tokenizer = AutoTokenizer.from_pretrained(folder)
                assert tokenizer.is_fast
                pipes[key] = pipeline(task, model=model, tokenizer=tokenizer, device="cpu")
            expected = run_case(pipes[key], task, options, inputs)
            entry = {"name": name, "task": task, "checkpoint": ckpt, "options": options, "inputs": inputs,
                     "expected": expected}
            if differs and "error" in differs:
                entry["differs"] = differs
            elif differs:
                entry["note"] = differs["note"]
            cases.append(entry)
            print(name, json.dumps(expected, ensure_ascii=False)[:300])
    checkpoints = {k: {"base": b, "architecture": a, "heads": h, "config": c}
                   for k, (b, a, h, c) in CHECKPOINTS.items()}
    with open(os.path.join(out_dir, "references.json"), "w", encoding="utf-8") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "seed": SEED,
                   "checkpoints": checkpoints, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


# --roberta-heads: RoBERTa's own sequence-classification and masked-LM heads, written on their own so that the
# fixtures above stay byte-identical: tiny/roberta-sentiment, tiny/roberta-mlm (the committed tiny/roberta-ner's
# tokenizer, seeded weights) and references_roberta_heads.json, in the layout of references.json.
ROBERTA_HEADS_CHECKPOINTS = {
    "tiny-roberta-sentiment": ("tiny/roberta-sentiment", None, [], {}),
    "tiny-roberta-mlm": ("tiny/roberta-mlm", None, [], {}),
}
ROBERTA_HEADS_CASES = [
    ("tiny_roberta_tc_default", "text-classification", "tiny-roberta-sentiment", {}, VARIED),
    ("tiny_roberta_tc_top_k_all", "text-classification", "tiny-roberta-sentiment", {"top_k": None}, VARIED),
    ("tiny_roberta_tc_text_pair", "text-classification", "tiny-roberta-sentiment", {"top_k": None}, PAIRS),
    ("tiny_roberta_fm_default", "fill-mask", "tiny-roberta-mlm", {}, TINY_MASKED),
    ("tiny_roberta_fm_targets", "fill-mask", "tiny-roberta-mlm", {"targets": ["Ġcapital", "Ġmodel", "the", "music"]},
     TINY_MASKED[:3]),
]


def make_tiny_roberta_heads(out_dir):
    """tiny/roberta-sentiment and tiny/roberta-mlm: the architecture of tiny/roberta-ner, seeded new weights."""
    from transformers import RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification
    t = TINY
    source = os.path.join(out_dir, "tiny", "roberta-ner")
    bpe = AutoTokenizer.from_pretrained(source)
    roberta = dict(vocab_size=len(bpe), hidden_size=t["dim"], num_hidden_layers=t["layers"],
                   num_attention_heads=t["heads"], intermediate_size=t["ffn"], max_position_embeddings=t["positions"],
                   initializer_range=t["init"], pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1)
    torch.manual_seed(SEED)
    made = [
        ("roberta-sentiment", RobertaForSequenceClassification(RobertaConfig(
            **roberta, **labels_config(["negative", "neutral", "positive"])))),
        ("roberta-mlm", RobertaForMaskedLM(RobertaConfig(**roberta))),
    ]
    for name, model in made:
        folder = os.path.join(out_dir, "tiny", name)
        shutil.rmtree(folder, ignore_errors=True)
        model.save_pretrained(folder)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(source, f), folder)


def main_roberta_heads(out_dir):
    assert transformers.__version__ == "4.57.6", transformers.__version__
    torch.set_num_threads(1)
    make_tiny_roberta_heads(out_dir)
    cases = []
    pipes = {}
    for name, task, ckpt, options, inputs in ROBERTA_HEADS_CASES:
        if (ckpt, task) not in pipes:
            folder = os.path.join(out_dir, ROBERTA_HEADS_CHECKPOINTS[ckpt][0])
            model = MODEL_CLASSES[task].from_pretrained(folder).eval()
            tokenizer = AutoTokenizer.from_pretrained(folder)
            assert tokenizer.is_fast
            pipes[(ckpt, task)] = pipeline(task, model=model, tokenizer=tokenizer, device="cpu")
        expected = run_case(pipes[(ckpt, task)], task, options, inputs)
        cases.append({"name": name, "task": task, "checkpoint": ckpt, "options": options, "inputs": inputs,
                      "expected": expected})
        print(name, json.dumps(expected, ensure_ascii=False)[:300])
    checkpoints = {k: {"base": b, "architecture": a, "heads": h, "config": c}
                   for k, (b, a, h, c) in ROBERTA_HEADS_CHECKPOINTS.items()}
    with open(os.path.join(out_dir, "references_roberta_heads.json"), "w", encoding="utf-8") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "seed": SEED,
                   "checkpoints": checkpoints, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if sys.argv[1] == "--roberta-heads":
        main_roberta_heads(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2])
