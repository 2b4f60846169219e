"""OpenML's cross-validation folds, regenerated offline exactly as OpenML's server makes them.

OpenML's evaluation engine (github ``openml/EvaluationEngine``, ``Main.java``:
``FOLD_GENERATION_SEED = 0``; ``foldgenerators/FoldGeneratorBase.java`` and
``CrossValidationSplitsGenerator.java``) writes a task's ``datasplits.arff`` like this:

1. a row-id column ``0..n-1`` is put in front of the dataset (file order);
2. ``random = new java.util.Random(seed)``; for each repeat:
   ``dataset.randomize(random)``, then, for a nominal class, ``dataset.stratify(folds)``;
3. for each fold: ``trainCV(folds, f)`` (no ``Random`` argument, so the training rows are *not*
   shuffled again) and ``testCV(folds, f)``, written as TRAIN lines (in that order) then TEST
   lines, one ``TYPE,rowid,repeat,fold`` per row.

The Weka 3.8 methods (``weka/core/Instances.java``) it calls:

* ``randomize``: for ``j = n-1 .. 1``: ``swap(j, random.nextInt(j + 1))``;
* ``stratify``: a grouping pass (``index = 1``; while ``index < n``: take the row at
  ``index - 1``, move every later row of the same class to ``index`` (``swap(index, j)``,
  ``index += 1``), then ``index += 1``), then ``stratStep``: rows ``0, k, 2k, ...``, then
  ``1, k+1, ...`` (``k`` = number of folds);
* ``testCV(k, f)``: a contiguous block; the first ``n % k`` folds hold ``n // k + 1`` rows;
  ``trainCV(k, f)``: the rows before the block, then the rows after it.

The file is Weka's ``Instances.toString()``: ``@relation <name>``, a blank line, the four
``@attribute`` lines, a blank line, ``@data``, the data lines joined by ``\\n`` (no newline
after the last). OpenML's engine records the md5 of exactly this text per task (its test data
``data/test/splits/task_splits_hashes.csv``); the relation name is the dataset's OpenML name
plus ``_splits``.

``java.util.Random`` is specified by its Javadoc: a 48-bit linear congruential generator
(multiplier ``0x5DEECE66D``, increment ``0xB``), seeded with ``seed ^ 0x5DEECE66D``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FOLD_GENERATION_SEED = 0  # EvaluationEngine Main.FOLD_GENERATION_SEED

_MULTIPLIER = 0x5DEECE66D
_INCREMENT = 0xB
_MASK48 = (1 << 48) - 1


def _to_int32(value: int) -> int:
    """Java's ``(int)`` cast: the low 32 bits as a signed integer."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


class JavaRandom:
    """``java.util.Random``: the same sequence as the JVM's for the same seed.

    Parameters
    ----------
    seed : int
        The ``long`` seed (any Python int; taken modulo 2**64 like a Java ``long``).
    """

    def __init__(self, seed: int):
        self._state = (int(seed) ^ _MULTIPLIER) & _MASK48  # setSeed's scramble

    def next_bits(self, bits: int) -> int:
        """``next(bits)``: advance the LCG and return its top ``bits`` bits as a Java ``int``."""
        self._state = (self._state * _MULTIPLIER + _INCREMENT) & _MASK48
        return _to_int32(self._state >> (48 - bits))

    def next_int(self, bound: int | None = None) -> int:
        """``nextInt()`` (no bound: 32 random bits, signed) or ``nextInt(bound)`` in ``[0, bound)``."""
        if bound is None:
            return self.next_bits(32)
        if bound <= 0:
            raise ValueError(f"bound must be positive, got {bound}")
        r = self.next_bits(31)
        m = bound - 1
        if bound & m == 0:  # a power of two: the high bits of r
            return _to_int32((bound * r) >> 31)
        # Reject the top partial interval: Java's test "u - r + m < 0" is an int overflow.
        u = r
        r = u % bound
        while _to_int32(u - r + m) < 0:
            u = self.next_bits(31)
            r = u % bound
        return r

    def next_long(self) -> int:
        """``nextLong()``: ``((long) next(32) << 32) + next(32)`` as a signed 64-bit value."""
        value = (self.next_bits(32) << 32) + self.next_bits(32)
        value &= (1 << 64) - 1
        return value - (1 << 64) if value >= 1 << 63 else value

    def next_double(self) -> float:
        """``nextDouble()``: 53 random bits scaled to ``[0, 1)``."""
        return ((self.next_bits(26) << 27) + self.next_bits(27)) * 2.0**-53


# -- Weka 3.8 Instances -------------------------------------------------------------------------

def randomize(rows: list, random: JavaRandom) -> None:
    """Weka ``Instances.randomize(Random)``, in place."""
    for j in range(len(rows) - 1, 0, -1):
        k = random.next_int(j + 1)
        rows[j], rows[k] = rows[k], rows[j]


def stratify(rows: list, classes: Sequence, n_folds: int) -> list:
    """Weka ``Instances.stratify(numFolds)`` for a nominal class: the reordered rows.

    ``classes[row]`` is the class of ``row``; ``None`` marks a missing class (Weka groups
    missing classes together, like one more class).
    """
    if n_folds <= 1:
        raise ValueError("Number of folds must be greater than 1")
    rows = list(rows)
    n = len(rows)
    index = 1
    while index < n:
        first = classes[rows[index - 1]]
        for j in range(index, n):
            if classes[rows[j]] == first:  # None == None: both missing
                rows[index], rows[j] = rows[j], rows[index]
                index += 1
        index += 1
    # stratStep: every n_folds-th row, starting at 0, then at 1, ...
    return [rows[j] for start in range(n_folds) for j in range(start, n, n_folds)]


def _fold_block(n: int, n_folds: int, fold: int) -> tuple[int, int]:
    """``(first, size)`` of ``testCV(n_folds, fold)``'s contiguous block."""
    if n_folds < 2:
        raise ValueError("Number of folds must be at least 2!")
    if n_folds > n:
        raise ValueError("Can't have more folds than instances!")
    size = n // n_folds
    if fold < n % n_folds:
        size += 1
        offset = fold
    else:
        offset = n % n_folds
    return fold * (n // n_folds) + offset, size


def test_cv(rows: Sequence, n_folds: int, fold: int) -> list:
    """Weka ``Instances.testCV(numFolds, numFold)``."""
    first, size = _fold_block(len(rows), n_folds, fold)
    return list(rows[first:first + size])


test_cv.__test__ = False  # a library function, not a pytest test


def train_cv(rows: Sequence, n_folds: int, fold: int) -> list:
    """Weka ``Instances.trainCV(numFolds, numFold)`` (without ``Random``: no reshuffle)."""
    first, size = _fold_block(len(rows), n_folds, fold)
    return list(rows[:first]) + list(rows[first + size:])


# -- the generator ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SplitLine:
    """One line of a ``datasplits.arff``: ``TRAIN``/``TEST``, row id, repeat, fold."""

    type: str
    rowid: int
    repeat: int
    fold: int


def generate_folds(classes: Sequence, n_folds: int = 10, n_repeats: int = 1, seed: int = FOLD_GENERATION_SEED,
                   nominal: bool = True) -> list[SplitLine]:
    """OpenML's cross-validation split lines for a dataset whose class column is ``classes``.

    Parameters
    ----------
    classes : sequence
        The class of each row, in the dataset file's row order (any hashable labels; ``None``
        for a missing class). Only equality between labels matters.
    n_folds, n_repeats : int
        The task's estimation procedure (the paper's tasks: 10 folds, 1 repeat).
    seed : int
        The ``java.util.Random`` seed (OpenML: 0).
    nominal : bool
        Whether the class is nominal (only then does OpenML stratify).

    Returns
    -------
    list of SplitLine
        In the file's order: per repeat, per fold, the TRAIN rows then the TEST rows.
    """
    classes = list(classes)
    random = JavaRandom(seed)
    rows = list(range(len(classes)))
    lines: list[SplitLine] = []
    for r in range(n_repeats):
        randomize(rows, random)
        if nominal:
            rows = stratify(rows, classes, n_folds)
        for f in range(n_folds):
            lines.extend(SplitLine("TRAIN", i, r, f) for i in train_cv(rows, n_folds, f))
            lines.extend(SplitLine("TEST", i, r, f) for i in test_cv(rows, n_folds, f))
    return lines


def fold_indices(classes: Sequence, repeat: int = 0, fold: int = 0, n_folds: int = 10,
                 seed: int = FOLD_GENERATION_SEED) -> tuple[np.ndarray, np.ndarray]:
    """``(train_rows, test_rows)`` of one repeat and fold, each in the order the file lists them.

    The order matters: HPOBench hands the training rows in this order to its validation split.
    """
    lines = generate_folds(classes, n_folds=n_folds, n_repeats=repeat + 1, seed=seed)
    train = [ln.rowid for ln in lines if ln.repeat == repeat and ln.fold == fold and ln.type == "TRAIN"]
    test = [ln.rowid for ln in lines if ln.repeat == repeat and ln.fold == fold and ln.type == "TEST"]
    return np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64)


def _quote_relation(name: str) -> str:
    """Weka ``Utils.quote`` (enough for relation names: quote on special characters)."""
    specials = ("\\", "'", "\t", "\n", "\r", '"', "%", "\u001e")
    if any(c in name for c in specials):
        for c, esc in (("\\", "\\\\"), ("'", "\\'"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"),
                       ('"', '\\"'), ("%", "\\%"), ("\u001e", "\\u001E")):
            name = name.replace(c, esc)
        return f"'{name}'"
    if any(c in name for c in "{}, ") or name in ("?", ""):
        return f"'{name}'"
    return name


def splits_arff(lines: Sequence[SplitLine], relation: str) -> str:
    """The text of a ``datasplits.arff`` (Weka's ``Instances.toString()``, no final newline)."""
    header = (f"@relation {_quote_relation(relation)}\n\n"
              "@attribute type {TRAIN,TEST}\n@attribute rowid numeric\n@attribute repeat numeric\n"
              "@attribute fold numeric\n\n@data\n")
    return header + "\n".join(f"{ln.type},{ln.rowid},{ln.repeat},{ln.fold}" for ln in lines)

