"""Chat-template references: HF's apply_chat_template on published chat templates.

Renders each template below with transformers' own Jinja environment (``apply_chat_template(tokenize=False)``, which
adds trim_blocks, lstrip_blocks, loop controls, ``raise_exception``, ``tojson`` and the tokenizer's special tokens)
over a few conversations, with and without ``add_generation_prompt``, and writes
lib/src/test/resources/chat_templates/references.json: {"templates": {name: {template, special_tokens}},
"conversations": {name: messages}, "cases": [{template, conversation, add_generation_prompt, text | error}]}.
``ChatTemplateTest`` renders the same with our Java Jinja (jinjava) and compares exactly; CI needs no Python.

The templates are the ones published in the models' tokenizer_config.json (Mistral v0.3 without its tool-calling
branches); "string_methods" is ours: the Python string methods that Qwen3 and DeepSeek templates call.

Run: /tmp/qa-venv/bin/python lib/src/test/python/make_chat_template_references.py   (transformers 4.57.6)
"""

import json
import pathlib

import transformers
from transformers import PreTrainedTokenizerFast
from tokenizers import Tokenizer, models

OUT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "chat_templates" / "references.json"

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

CHATML_QWEN2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

MISTRAL_V01 = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)

MISTRAL_V03 = """{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\\n\\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
"""

ZEPHYR = """{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>
'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}"""

STRING_METHODS = """{%- for message in messages %}
    {%- set content = message.content.strip() %}
    {%- if message.role == "assistant" and '</think>' in content %}
        {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
    {%- endif %}
    {%- if content.startswith('Please') %}
        {{- '<|' + message.role.upper() + '|>!' + content + '\\n' }}
    {%- else %}
        {{- '<|' + message.role + '|>' + content + '\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|assistant|>' + (messages | length | string) + '\\n' }}
{%- endif %}"""

TEMPLATES = {
    "llama3": (LLAMA3, {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    "chatml_qwen2": (CHATML_QWEN2, {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}),
    "mistral_v01": (MISTRAL_V01, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}),
    "mistral_v03": (MISTRAL_V03, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}),
    "zephyr": (ZEPHYR, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}),
    "string_methods": (STRING_METHODS, {"eos_token": "</s>"}),
}

CONVERSATIONS = {
    "user_only": [{"role": "user", "content": "Summarise the Apache License in one line."}],
    "system_user": [
        {"role": "system", "content": "You are a concise lawyer."},
        {"role": "user", "content": "  May I copy the Work?  "},
    ],
    "multi_turn": [
        {"role": "user", "content": "Please define 'Work'."},
        {"role": "assistant", "content": "<think>short</think>\n The work of authorship. "},
        {"role": "user", "content": "And 'Contribution'?"},
    ],
    "system_multi_turn": [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Bonjour ! Ça va ?"},
        {"role": "user", "content": "Quote \"NOTICE\" and a tab\there."},
    ],
    "not_alternating": [
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
    ],
}


def tokenizer(special):
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"x": 0}, unk_token="x")), **special)
    return tok


def main():
    cases = []
    for name, (template, special) in TEMPLATES.items():
        tok = tokenizer(special)
        for conv_name, messages in CONVERSATIONS.items():
            for gen in (True, False):
                case = {"template": name, "conversation": conv_name, "add_generation_prompt": gen}
                try:
                    case["text"] = tok.apply_chat_template(
                        messages, chat_template=template, tokenize=False, add_generation_prompt=gen
                    )
                except Exception as e:  # raise_exception in the template: HF raises TemplateError
                    case["error"] = str(e)
                cases.append(case)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "transformers_version": transformers.__version__,
                "templates": {n: {"template": t, "special_tokens": s} for n, (t, s) in TEMPLATES.items()},
                "conversations": CONVERSATIONS,
                "cases": cases,
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
