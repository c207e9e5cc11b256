"""Two encoders combined into one, without training: a weight average or a score ensemble.

Both are the baselines a claim of synergy must beat: if hybrid batches (monolingual with
probability alpha) only did what mixing a monolingual and a cross-lingual model does, then
``wavg:ALPHA:MONO,CROSS`` (alpha * mono weights + (1 - alpha) * cross weights, one model of
the same size) or ``ensemble:ALPHA:MONO,CROSS`` (alpha * mono similarity + (1 - alpha) *
cross similarity, two models at inference) would match it. The ensemble is exact with
cosine scoring: the concatenation of sqrt(alpha) * a and sqrt(1 - alpha) * b, with a and b
unit vectors, is a unit vector whose dot product with another such vector is
alpha * cos_a + (1 - alpha) * cos_b.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from xmir.errors import XmirError

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

CombineKind = Literal["wavg", "ensemble"]
COMBINE_KINDS: tuple[str, ...] = ("wavg", "ensemble")
_COMBINED = re.compile(r"^(?P<kind>wavg|ensemble):(?P<alpha>[^:]+):(?P<members>.+)$")


@dataclass(frozen=True)
class CombinedSpec:
    """``wavg:0.5:A,B`` parsed: the kind, the weight of the first model and both specs."""

    text: str
    kind: CombineKind
    alpha: float
    first: str
    second: str


def parse_combined_spec(text: str) -> CombinedSpec | None:
    """The combined spec in ``text``, None when ``text`` is not one (``wavg:``/``ensemble:``)."""
    match = _COMBINED.match(text.strip())
    if match is None:
        return None
    try:
        alpha = float(match["alpha"])
    except ValueError:
        alpha = math.nan
    if not 0.0 <= alpha <= 1.0:
        raise XmirError(f"{text}: the weight must be a number in [0, 1], got {match['alpha']!r}")
    members = match["members"].split(",")
    if len(members) != 2 or not all(m.strip() for m in members):
        raise XmirError(f"{text}: name exactly two models, separated by a comma: KIND:ALPHA:A,B")
    return CombinedSpec(text.strip(), match["kind"], alpha, members[0].strip(), members[1].strip())  # type: ignore[arg-type]


def average_weights(first: torch.nn.Module, second: torch.nn.Module, alpha: float) -> None:
    """Replace ``first``'s floating-point weights by alpha * first + (1 - alpha) * second."""
    import torch

    theirs = second.state_dict()
    ours = first.state_dict()
    if ours.keys() != theirs.keys() or any(ours[k].shape != theirs[k].shape for k in ours):
        raise XmirError(
            "wavg: the two models differ in architecture (parameter names or shapes); "
            "average only models of one size and family"
        )
    with torch.no_grad():
        for name, tensor in ours.items():
            if tensor.is_floating_point():
                tensor.mul_(alpha).add_(theirs[name].to(tensor.device), alpha=1.0 - alpha)


class ScoreEnsemble:
    """Two sentence-transformers models scored as alpha * cos_first + (1 - alpha) * cos_second.

    Offers what xmir's encoder needs of a model (``encode``, ``prompts``,
    ``max_seq_length``, the modules and their parameters); embeddings are the scaled
    concatenation described in the module docstring, normalised by construction.
    """

    def __init__(
        self,
        first: SentenceTransformer,
        second: SentenceTransformer,
        alpha: float,
        member_hashes: tuple[str, str] = ("", ""),
    ):
        self.first, self.second, self.alpha = first, second, alpha
        self.member_hashes = member_hashes  # lets each member reuse its cached embeddings
        self.prompts = dict(first.prompts)
        self.default_prompt_name = getattr(first, "default_prompt_name", None)
        self.tokenizer = first.tokenizer

    @property
    def max_seq_length(self) -> int:
        return int(self.first.max_seq_length or 0)

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        self.first.max_seq_length = value
        self.second.max_seq_length = value

    def encode(self, sentences: list[str], **kwargs: Any) -> np.ndarray:
        """Both models' unit embeddings, scaled by sqrt(alpha) and sqrt(1 - alpha), joined."""
        kwargs.update(convert_to_numpy=True, normalize_embeddings=True)
        first = np.asarray(self.first.encode(sentences, **kwargs), dtype=np.float32)
        second = np.asarray(self.second.encode(sentences, **kwargs), dtype=np.float32)
        return self.combine(first, second)

    def combine(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The ensemble embedding from both members' unit embeddings."""
        return np.concatenate(
            [math.sqrt(self.alpha) * first, math.sqrt(1.0 - self.alpha) * second], axis=1
        ).astype(np.float32)

    def named_children(self) -> Iterator[tuple[str, Any]]:
        yield "first", self.first
        yield "second", self.second

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        yield from self.first.parameters()
        yield from self.second.parameters()


def ensemble_sha256(alpha: float, first_sha: str, second_sha: str) -> str:
    """The identity of an ensemble: its weight and both members' weight hashes."""
    return hashlib.sha256(f"ensemble|{alpha!r}|{first_sha}|{second_sha}".encode()).hexdigest()
