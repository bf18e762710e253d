"""By-hand check that a checkpoint saved by Seq2SeqTrainingTest loads in transformers with the same eval loss.

Run: mvn -o -pl lib test -Dtest=Seq2SeqTrainingTest -Dsparkformers.seq2seq.keep=/tmp/s2s-keep
     /tmp/qa-venv/bin/python lib/src/test/python/check_seq2seq_checkpoint.py /tmp/s2s-keep
Prints transformers loading info (no missing/unexpected keys expected) and the eval loss of the held-out rows
(HF loss with labels, one batch of 7), to compare with the eval_loss the test prints after training.
"""
import sys, json, torch, re, zipfile, glob
from transformers import BartForConditionalGeneration, AutoTokenizer, PreTrainedTokenizerFast
d = sys.argv[1]
m, info = BartForConditionalGeneration.from_pretrained(d, output_loading_info=True)
print("loading info", info)
m.eval()
tok = PreTrainedTokenizerFast(tokenizer_file=d + "/tokenizer.json")
# the eval rows: the Apache License paragraphs as RealText.paragraphs() makes them
jar = glob.glob('/root/.m2/repository/org/apache/commons/commons-compress/*/commons-compress-*.jar') + glob.glob(sys.argv[2] if len(sys.argv) > 2 else '/nonexistent')
text = zipfile.ZipFile(sorted(jar)[-1]).read('META-INF/LICENSE.txt').decode()
paras = [re.sub(r'\s+', ' ', p.strip()) for p in re.split(r'\n\s*\n', text)]
paras = [p for p in paras if len(p.split(' ')) >= 8]
cut = len(paras) * 3 // 4
ev = paras[cut:]
src = [tok(p)["input_ids"][:48] for p in ev]
tgt = [tok(" ".join(p.split(" ")[:4]))["input_ids"][:16] for p in ev]
S = max(map(len, src)); T = max(map(len, tgt))
ids = torch.tensor([s + [1] * (S - len(s)) for s in src]); mask = torch.tensor([[1] * len(s) + [0] * (S - len(s)) for s in src])
labels = torch.tensor([t + [-100] * (T - len(t)) for t in tgt])
with torch.no_grad():
    out = m(input_ids=ids, attention_mask=mask, labels=labels)
print("rows", len(ev), "python eval_loss", out.loss.item())
