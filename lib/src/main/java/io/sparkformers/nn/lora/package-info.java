/**
 * LoRA adapters as PEFT writes and reads them ({@code peft.LoraConfig}, {@code get_peft_model},
 * {@code PeftModel.from_pretrained}, {@code save_pretrained}, {@code merge_and_unload}): the config
 * ({@code adapter_config.json}), the wrapped model whose targeted Linear blocks gain {@code lora_A} / {@code lora_B},
 * and the adapter file ({@code adapter_model.safetensors}) under PEFT's key names. Plain {@code nn}: no Spark, no
 * Trainer; the Trainer picks the adapter's parameters as its trainable set.
 */
package io.sparkformers.nn.lora;
