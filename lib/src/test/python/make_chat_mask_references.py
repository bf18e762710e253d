"""Chat-message instruction data: which tokens HF marks as the assistant's, for ChatInstructionTest.

HF's own mechanism for assistant-only loss (TRL's ``assistant_only_loss``) is ``apply_chat_template(...,
return_assistant_tokens_mask=True)`` on a template whose assistant turns sit in ``{% generation %}`` blocks. Our Java
side renders the template WITHOUT those tags (most published templates have none) and finds each assistant turn by
rendering the conversation prefix by prefix; this script gives the independent answer: the ChatML (Qwen2) template
and Zephyr's, each once with generation tags around exactly the assistant's turn (content and end-of-turn), rendered
and tokenized by transformers with the real GPT-2 tokenizer of lib/src/test/resources/generation/gpt2-tiny (the
special tokens added as HF does when a tokenizer gains them), and the token ids and assistant masks written to
lib/src/test/resources/chat_masks/references.json; the tokenizer with its added tokens and the tag-less template is
saved beside it (chat_masks/chatml, chat_masks/zephyr: tokenizer.json, tokenizer_config.json, chat_template.jinja).

Run: /tmp/qa-venv/bin/python lib/src/test/python/make_chat_mask_references.py   (transformers 4.57.6)
"""

import json
import pathlib

import transformers
from transformers import AutoTokenizer

RES = pathlib.Path(__file__).resolve().parents[1] / "resources"
OUT = RES / "chat_masks" / "references.json"

CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' + '\n' }}{% endgeneration %}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

ZEPHYR = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + eos_token + '\n' }}"
    "{% elif message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + eos_token + '\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\n' }}"
    "{% generation %}{{ message['content'] + eos_token + '\n' }}{% endgeneration %}{% endif %}"
    "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}{% endfor %}"
)

TEMPLATES = {"chatml": (CHATML, ["<|im_start|>", "<|im_end|>"]), "zephyr": (ZEPHYR, ["<|user|>", "<|assistant|>",
                                                                                 "<|system|>"])}

CONVERSATIONS = [
    [{"role": "user", "content": "What is Spark?"},
     {"role": "assistant", "content": "A distributed engine for data."}],
    [{"role": "system", "content": "Answer briefly."},
     {"role": "user", "content": "2 + 2?"},
     {"role": "assistant", "content": "4"},
     {"role": "user", "content": "And times three, in words?"},
     {"role": "assistant", "content": "Twelve — ünïcode and emoji 🎉 too."}],
]


def untagged(template):
    return template.replace("{% generation %}", "").replace("{% endgeneration %}", "")


def main():
    cases = []
    templates = {}
    for name, (template, added) in TEMPLATES.items():
        tok = AutoTokenizer.from_pretrained(RES / "generation" / "gpt2-tiny")
        tok.add_special_tokens({"additional_special_tokens": added})
        templates[name] = {"added_tokens": added, "added_ids": tok.convert_tokens_to_ids(added)}
        for i, conv in enumerate(CONVERSATIONS):
            out = tok.apply_chat_template(conv, chat_template=template, tokenize=True, return_dict=True,
                                          return_assistant_tokens_mask=True)
            text = tok.apply_chat_template(conv, chat_template=untagged(template), tokenize=False)
            assert tok(text, add_special_tokens=False)["input_ids"] == out["input_ids"]
            cases.append({"template": name, "conversation": i, "input_ids": out["input_ids"],
                          "assistant_masks": out["assistant_masks"]})
        tok.chat_template = untagged(template)
        tok.save_pretrained(OUT.parent / name, legacy_format=False)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"templates": templates, "conversations": CONVERSATIONS, "cases": cases,
                   "versions": {"transformers": transformers.__version__}}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
