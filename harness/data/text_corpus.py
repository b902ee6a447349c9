"""Text corpora for the language-model workloads: a procedural one and Hugging Face ones.

`markov_text` writes text from a synthetic language, deterministic from its seeds: a lexicon of
`num_words` made-up words (2–6 lowercase letters) and a word-level Markov chain in which every
word has `successors` possible next words (Dirichlet(1) probabilities); a sentence ends (". ")
with probability 0.1 after each word. The *grammar* (lexicon and chain) is fixed by
`grammar_seed`; each split samples its own text from it with its own `sample_seed`, so train
and validation are different text from one language. A byte-level model must learn the
spelling of the words and the chain; its loss floor is the chain's entropy spread over the
characters.

`hub_text` reads one split of a Hugging Face text dataset (e.g. `Salesforce/wikitext`,
`wikitext-2-raw-v1`, column "text") and joins its rows with newlines.

Both give bytes; `Vocabulary` maps them to compact token ids (the bytes that occur in the
training text, in byte order; unseen bytes map to id 0, which is reserved for them) and
`sequences` cuts token streams into non-overlapping windows of `length + 1` tokens (inputs and
next-token targets).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.hub_split import load_split

_LETTERS = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def markov_text(grammar_seed: int, sample_seed: int, num_bytes: int, *, num_words: int = 48,
                successors: int = 3, sentence_end: float = 0.1) -> bytes:
    """`num_bytes` bytes of the synthetic language fixed by `grammar_seed`."""
    grammar = np.random.default_rng(grammar_seed)
    words = [bytes(grammar.choice(_LETTERS, size=int(grammar.integers(2, 7))))
             for _ in range(num_words)]
    nexts = np.stack([grammar.choice(num_words, size=successors, replace=False)
                      for _ in range(num_words)])
    probs = grammar.dirichlet(np.ones(successors), size=num_words)
    rng = np.random.default_rng(sample_seed)
    # Draw all random numbers at once; the chain walk itself is cheap Python.
    estimate = num_bytes // 3 + 16
    picks, ends = rng.random(estimate), rng.random(estimate) < sentence_end
    out, word, size, i = [], int(rng.integers(num_words)), 0, 0
    while size < num_bytes:
        if i == estimate:  # more words than estimated (short words): draw more
            picks, ends, i = rng.random(estimate), rng.random(estimate) < sentence_end, 0
        piece = words[word] + (b". " if ends[i] else b" ")
        out.append(piece)
        size += len(piece)
        word = int(nexts[word, np.searchsorted(np.cumsum(probs[word]), picks[i] * 0.999999)])
        i += 1
    return b"".join(out)[:num_bytes]


def hub_text(path: str, split: str, *, column: str = "text", config: str | None = None,
             data_files: dict[str, Any] | None = None, cache_dir: Path | None = None,
             max_bytes: int | None = None) -> bytes:
    """The rows of one split of a Hugging Face text dataset, joined with newlines (UTF-8)."""
    dataset = load_split(path, split, config=config, data_files=data_files, cache_dir=cache_dir)
    if column not in dataset.column_names:
        from harness.errors import UserError

        raise UserError(f"{path} has no column {column!r}; columns: "
                        f"{', '.join(dataset.column_names)} (set dataset_options.column)")
    text = "\n".join(row for row in dataset[column] if row).encode("utf-8")
    return text[:max_bytes] if max_bytes else text


@dataclass(frozen=True)
class Vocabulary:
    """Byte -> token id; id 0 is for bytes absent from the training text."""

    symbols: bytes

    @classmethod
    def of(cls, text: bytes) -> Vocabulary:
        return cls(bytes(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.symbols) + 1

    def encode(self, text: bytes) -> np.ndarray:
        table = np.zeros(256, dtype=np.uint8 if self.size <= 256 else np.int16)
        table[np.frombuffer(self.symbols, dtype=np.uint8)] = np.arange(1, self.size)
        return table[np.frombuffer(text, dtype=np.uint8)]


def sequences(tokens: np.ndarray, length: int) -> np.ndarray:
    """Non-overlapping windows of `length + 1` tokens, (N, length + 1); the tail is dropped."""
    count = (len(tokens) - 1) // length
    if count < 1:
        raise ValueError(f"a text of {len(tokens)} tokens holds no sequence of {length + 1}")
    starts = np.arange(count) * length
    return tokens[starts[:, None] + np.arange(length + 1)[None, :]]
