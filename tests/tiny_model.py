"""A tiny Hugging Face sequence-classification model built from a config (no download, < 1 MB).

`build_tiny_model(path, labels, bias)` writes a BertForSequenceClassification with a word-level tokenizer
to `path`; with `bias` the classifier ignores the text (zero weights) and its logits are exactly `bias`,
so a test can force e.g. a confident "negative".
"""

from __future__ import annotations

from pathlib import Path

WORDS = (
    "the a an is was and or not no very good bad great terrible train late service app refund cancel "
    "der die das ist war und nicht kein sehr gut schlecht zug spät kundenservice kündigen anwalt "
    "i you we they it this that love hate never again nie wieder lawyer chargeback support delivery"
).split()


def build_tiny_model(path: Path, labels: list[str], bias: list[float] | None = None) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    vocab = {tok: i for i, tok in enumerate(specials + sorted(set(WORDS)))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", model_max_length=64)
    fast.save_pretrained(str(path))
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=64, pad_token_id=0, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)},
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    if bias is not None:
        if len(bias) != len(labels):
            raise ValueError("bias needs one value per label")
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.copy_(torch.tensor(bias, dtype=torch.float))
    model.save_pretrained(str(path))
    return path
