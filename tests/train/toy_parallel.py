"""Toy parallel training data in LAReQA layout, with texts that map back to (item, language)."""

from __future__ import annotations

import json
from pathlib import Path

TOY_LANGUAGES = ("de", "en", "es")
TOY_ITEMS = 24


def toy_languages_of(item: int) -> tuple[str, ...]:
    """Every item is in de and en; every third one is missing in es."""
    return ("de", "en") if item % 3 == 0 else TOY_LANGUAGES


def toy_question(item: int, lang: str) -> str:
    return f"question {item} {lang}"


def toy_answer(item: int, lang: str) -> str:
    return f"answer {item} {lang}."


def write_toy_lareqa(folder: Path) -> Path:
    """One SQuAD+sentences json per language; question ids q00..q23 are parallel."""
    folder.mkdir(parents=True, exist_ok=True)
    for lang in TOY_LANGUAGES:
        paragraphs = []
        for item in range(TOY_ITEMS):
            if lang not in toy_languages_of(item):
                continue
            filler, answer = f"filler {item} {lang}.", toy_answer(item, lang)
            context = f"{filler} {answer}"
            start = len(filler) + 1
            paragraphs.append(
                {
                    "context": context,
                    "sentences": [filler, answer],
                    "sentence_breaks": [[0, len(filler)], [start, len(context)]],
                    "qas": [
                        {
                            "id": f"q{item:02d}",
                            "question": toy_question(item, lang),
                            "answers": [{"text": "answer", "answer_start": start}],
                        }
                    ],
                }
            )
        payload = {"version": "1.1", "data": [{"title": "toy", "paragraphs": paragraphs}]}
        (folder / f"{lang}.json").write_text(json.dumps(payload), encoding="utf-8")
    return folder
