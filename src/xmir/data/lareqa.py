"""XQuAD-R and MLQA-R (LAReQA format) -> a :class:`RetrievalSet` of queries, candidates, qrels.

Every question (in every language) is a query; the candidate pool is every sentence of every
paragraph of every language; the relevant candidates of question id ``q`` are the
answer-bearing sentences of ``q`` in each language where ``q`` exists (LAReQA, Roy et al. 2020).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from xmir.data.holdout import Holdout, Split, SplitLayout, split_articles
from xmir.data.languages import select_languages
from xmir.data.sources import LAREQA_SOURCES, LareqaSource, resolve_lareqa_dir
from xmir.data.subset import QuestionLayout, Subset, sample_paragraphs
from xmir.errors import XmirError
from xmir.paths import cache_dir, data_dir_from_env


@dataclass(frozen=True)
class RetrievalSet:
    """A pooled multilingual retrieval set; list positions are the query / candidate indices."""

    name: str
    languages: tuple[str, ...]
    query_ids: list[str]
    query_langs: list[str]
    query_texts: list[str]
    candidate_texts: list[str]
    candidate_langs: list[str]
    candidate_contexts: list[str]
    relevant: list[list[int]]
    gold_own_language: list[int]
    file_sha256: dict[str, str] = field(default_factory=dict)
    subset: str | None = None
    subset_record: dict[str, Any] | None = None
    article_titles: tuple[str, ...] = ()
    query_titles: tuple[str, ...] = ()  # the article title of each query's paragraph
    split_record: dict[str, Any] | None = None  # the held-out split side, when one was read

    @property
    def num_queries(self) -> int:
        return len(self.query_texts)

    @property
    def num_candidates(self) -> int:
        return len(self.candidate_texts)


def load_lareqa(
    name: str,
    data_dir: Path | None = None,
    languages: list[str] | None = None,
    *,
    max_questions: int | None = None,
    subset_seed: int = 0,
    split: Split = "all",
    holdout: Holdout | None = None,
) -> RetrievalSet:
    """Read XQuAD-R or MLQA-R from ``data_dir`` (or ``$XMIR_DATA_DIR`` or the download cache).

    ``split`` (``train`` or ``dev``, with ``holdout``) keeps one side of the held-out
    development split (whole articles, see :mod:`xmir.data.holdout`); it is drawn over all
    the dataset's languages, so it does not depend on ``languages``. ``max_questions`` keeps
    a representative subset of about N question ids (of that side): whole paragraphs sampled
    with ``subset_seed``, stratified by article (see :mod:`xmir.data.subset`), with every
    translation of each kept question and only the sentences of kept paragraphs.
    """
    source = _source(name)
    chosen = select_languages(languages, source.languages, source=source.name)
    if (split == "all") != (holdout is None):
        raise XmirError("a train/dev split needs its holdout (fraction, seed), and only then")
    folder = resolve_lareqa_dir(source, data_dir, chosen)
    parsed = {lang: _read_language(folder, lang) for lang in chosen}
    layout = _question_layout(parsed, chosen)
    sides: SplitLayout | None = None
    keep: frozenset[str] | None = None
    if holdout is not None:
        every = list(source.languages)
        full = {lang: parsed.get(lang) or _read_language(folder, lang) for lang in every}
        sides = split_articles(_question_layout(full, every), holdout)
        keep = sides.ids(split)
        layout = _keep_ids(layout, keep)
    subset = None
    if max_questions is not None:
        subset = sample_paragraphs(layout, max_questions, subset_seed)
    built = _build(source.name, chosen, parsed, subset, keep)
    if subset is None and sides is None and tuple(chosen) == source.languages:
        _check_known_counts(source, built)
    if sides is not None:
        built = replace(built, split_record=sides.record(split))
    return built


def _keep_ids(layout: QuestionLayout, keep: frozenset[str]) -> QuestionLayout:
    """``layout`` with only the question ids in ``keep`` (empty paragraphs and articles go)."""
    kept: QuestionLayout = {}
    for article, paragraphs in layout.items():
        for paragraph, ids in paragraphs.items():
            chosen = [qid for qid in ids if qid in keep]
            if chosen:
                kept.setdefault(article, {})[paragraph] = chosen
    return kept


def _source(name: str) -> LareqaSource:
    if name not in LAREQA_SOURCES:
        known = ", ".join(sorted(LAREQA_SOURCES))
        raise XmirError(f"unknown LAReQA dataset {name!r}; choose one of: {known}")
    return LAREQA_SOURCES[name]


@dataclass(frozen=True)
class _Paragraph:
    context: str
    sentences: list[str]
    questions: list[tuple[str, str, int]]  # (question id, question text, gold sentence index)
    article: int = 0  # position of the paragraph's article in its file
    title: str = ""


@dataclass(frozen=True)
class _LanguageFile:
    path: Path
    sha256: str
    paragraphs: list[_Paragraph]


def _read_language(folder: Path, lang: str) -> _LanguageFile:
    path = _language_file(folder, lang)
    raw = path.read_bytes()
    try:
        text = gzip.decompress(raw) if path.suffix == ".gz" else raw
        payload = json.loads(text.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise XmirError(
            f"{path}: not valid (gzipped) JSON ({error}); re-download the file"
        ) from None
    paragraphs = _parse_squad(payload, path)
    return _LanguageFile(path, hashlib.sha256(raw).hexdigest(), paragraphs)


def _language_file(folder: Path, lang: str) -> Path:
    for candidate in (folder / f"{lang}.json.gz", folder / f"{lang}.json"):
        if candidate.is_file():
            return candidate
    raise XmirError(f"missing language file {folder / (lang + '.json[.gz]')}; check --data-dir")


def question_paragraphs(
    name: str, languages: Sequence[str], files_sha256: Mapping[str, str]
) -> dict[str, str] | None:
    """The paragraph (``lang:index`` of its reference file) of every question id, read from
    local files whose SHA-256 equal ``files_sha256`` (what an evaluation recorded); None when
    such files are not at hand. Never downloads: a report must not depend on the network."""
    source = _source(name)
    folders = [cache_dir() / "data" / f"{source.name}@{source.commit[:12]}"]
    env_dir = data_dir_from_env()
    if env_dir is not None:
        folders.insert(0, env_dir / source.name if (env_dir / source.name).is_dir() else env_dir)
    for folder in folders:
        try:
            parsed = {lang: _read_language(folder, lang) for lang in languages}
        except XmirError:
            continue
        if any(
            parsed[lang].sha256 != files_sha256.get(_file_key(parsed[lang].path))
            for lang in languages
        ):
            continue
        layout = _question_layout(parsed, list(languages))
        return {
            qid: paragraph
            for article in layout.values()
            for paragraph, ids in article.items()
            for qid in ids
        }
    return None


def _file_key(path: Path) -> str:
    """How an evaluation names a language file in ``files_sha256`` (its file name)."""
    return path.name


def _parse_squad(payload: Any, path: Path) -> list[_Paragraph]:
    try:
        articles = payload["data"]
        paragraphs = [
            (index, str(article.get("title", "")), p)
            for index, article in enumerate(articles)
            for p in article["paragraphs"]
        ]
    except (KeyError, TypeError, AttributeError):
        raise XmirError(f"{path}: not LAReQA/SQuAD json (expected data[].paragraphs[])") from None
    return [_parse_paragraph(p, path, index, title) for index, title, p in paragraphs]


def _parse_paragraph(
    paragraph: dict[str, Any], path: Path, article: int = 0, title: str = ""
) -> _Paragraph:
    try:
        sentences = list(paragraph["sentences"])
        breaks = [tuple(b) for b in paragraph["sentence_breaks"]]
        qas = paragraph["qas"]
        context = paragraph["context"]
    except (KeyError, TypeError):
        raise XmirError(
            f"{path}: paragraph without sentences/sentence_breaks/qas; this is plain SQuAD, "
            "not LAReQA (XQuAD-R/MLQA-R) json"
        ) from None
    if len(sentences) != len(breaks):
        raise XmirError(
            f"{path}: a paragraph has {len(sentences)} sentences but {len(breaks)} breaks"
        )
    questions = []
    for qa in qas:
        start = int(qa["answers"][0]["answer_start"])
        hits = [i for i, (lo, hi) in enumerate(breaks) if lo <= start < hi]
        if len(hits) != 1:
            raise XmirError(
                f"{path}: the answer of question {qa['id']} (offset {start}) lies in "
                f"{len(hits)} sentences, expected exactly one; the file is not valid LAReQA"
            )
        questions.append((str(qa["id"]), str(qa["question"]), hits[0]))
    return _Paragraph(context, sentences, questions, article, title)


def _question_layout(parsed: dict[str, _LanguageFile], languages: list[str]) -> QuestionLayout:
    """Question ids grouped by paragraph and article of one reference file per id.

    The reference of an id is its English file when English is read (MLQA-R ids always exist
    in English), else the first language that has it; XQuAD-R is parallel, so every
    language gives the same grouping.
    """
    order = sorted(languages, key=lambda lang: (lang != "en", languages.index(lang)))
    seen: set[str] = set()
    layout: QuestionLayout = {}
    for lang in order:
        for index, paragraph in enumerate(parsed[lang].paragraphs):
            ids = [q[0] for q in paragraph.questions if q[0] not in seen]
            if ids:
                article = layout.setdefault(f"{lang}:{paragraph.article}", {})
                article[f"{lang}:{index}"] = ids
                seen.update(ids)
    return layout


def _build(
    name: str,
    languages: list[str],
    parsed: dict[str, _LanguageFile],
    subset: Subset | None,
    split_ids: frozenset[str] | None = None,
) -> RetrievalSet:
    keep_ids = split_ids if subset is None else set(subset.question_ids)
    cand_texts: list[str] = []
    cand_langs: list[str] = []
    cand_contexts: list[str] = []
    gold: dict[tuple[str, str], int] = {}
    queries: list[tuple[str, str, str]] = []  # (question id, language, text)
    query_titles: list[str] = []
    titles: dict[str, None] = {}
    for lang in languages:
        for paragraph in parsed[lang].paragraphs:
            kept = [q for q in paragraph.questions if keep_ids is None or q[0] in keep_ids]
            if keep_ids is not None and not kept:
                continue
            offset = len(cand_texts)
            if paragraph.title:
                titles[paragraph.title] = None
            cand_texts.extend(paragraph.sentences)
            cand_langs.extend([lang] * len(paragraph.sentences))
            cand_contexts.extend([paragraph.context] * len(paragraph.sentences))
            for qid, text, sentence in kept:
                if (qid, lang) in gold:
                    raise XmirError(f"{parsed[lang].path}: question id {qid} appears twice")
                gold[(qid, lang)] = offset + sentence
                queries.append((qid, lang, text))
                query_titles.append(paragraph.title)
    if not queries or not cand_texts:
        raise XmirError(f"{name}: empty pool (no questions or candidates were read)")
    by_id: dict[str, list[int]] = defaultdict(list)
    for (qid, _lang), index in gold.items():
        by_id[qid].append(index)
    return RetrievalSet(
        name=name,
        languages=tuple(languages),
        query_ids=[q[0] for q in queries],
        query_langs=[q[1] for q in queries],
        query_texts=[q[2] for q in queries],
        candidate_texts=cand_texts,
        candidate_langs=cand_langs,
        candidate_contexts=cand_contexts,
        relevant=[sorted(by_id[q[0]]) for q in queries],
        gold_own_language=[gold[(q[0], q[1])] for q in queries],
        file_sha256={parsed[lang].path.name: parsed[lang].sha256 for lang in languages},
        subset=None if subset is None else subset.describe(),
        subset_record=None if subset is None else subset.record(),
        article_titles=tuple(titles),
        query_titles=tuple(query_titles),
    )


def _check_known_counts(source: LareqaSource, built: RetrievalSet) -> None:
    problems = []
    if built.num_candidates != source.expected_candidates:
        problems.append(
            f"{built.num_candidates} candidates (expected {source.expected_candidates})"
        )
    if built.num_queries != source.expected_queries:
        problems.append(f"{built.num_queries} queries (expected {source.expected_queries})")
    if source.relevant_per_query is not None:
        odd = sum(len(r) != source.relevant_per_query for r in built.relevant)
        if odd:
            problems.append(
                f"{odd} queries without {source.relevant_per_query} relevant candidates"
            )
    if problems:
        raise XmirError(
            f"{source.name} does not match the published counts: {'; '.join(problems)}; "
            "the files are incomplete or a different version"
        )
