"""What a paper says, indexed for name look-ups that ignore spacing, hyphens and case: the faithfulness check
(write/checks/faithful.py) asks it whether a name is in the paper, and the answer validator (llm/schemas.py)
whether a Latin term in a Chinese or Japanese answer is one the paper uses."""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import cached_property
from itertools import accumulate, pairwise

# --- normalization: same length as the input, so spans found in it are spans of the original ------------

_FOLD = {o: o - 0xFEE0 for o in range(0xFF01, 0xFF5F)}  # full-width ASCII
_FOLD |= dict.fromkeys(map(ord, "\u3000\u00a0\u202f"), ord(" "))
_FOLD |= dict.fromkeys(map(ord, "−–—‐‑‒"), ord("-"))
_FOLD |= dict.fromkeys(map(ord, "’ʼ"), ord("'"))

_WORD = re.compile(r"[a-z0-9]+")
INITIALS_WORDS = 600  # title + abstract + comment, with room to spare (abstracts run to ~350 words)
_GLUE_WORDS = "a an the of and or to for in on at by as via with from into"
_GLUE = frozenset(_GLUE_WORDS.split())  # words a capital letter never stands for
# Between two words of one phrase: spaces, hyphens, slashes. Anything else (",", ".", "(") ends the phrase,
# so initials are never read across a clause ("... model. Then ..." does not spell MT).
_PHRASE_GAP = re.compile(r"[\s/-]*")


def fold(text: str) -> str:
    """Full-width ASCII to ASCII, ideographic and no-break spaces to space, Unicode hyphens and minus to '-',
    curly apostrophes to "'": one char for one char."""
    return text.translate(_FOLD)


class SourceIndex:
    """Everything the paper says, ready for name look-ups that ignore spacing, hyphens and case: a name is
    found when its letters and digits are those of consecutive whole words of the source."""

    def __init__(self, sources: list[str] | str):
        text = sources if isinstance(sources, str) else "\n".join(s for s in sources if s)
        self.text = text
        self.lower = fold(text).lower()
        self._found = list(_WORD.finditer(self.lower))
        self.words = [m.group() for m in self._found]
        self._ends = list(accumulate(len(w) for w in self.words))  # word ends, in squashed coordinates
        self._starts = [end - len(w) for end, w in zip(self._ends, self.words, strict=True)]
        self._start_set, self._end_set = set(self._starts), set(self._ends)
        self.squashed = "".join(self.words)

    @cached_property
    def phrase_break(self) -> list[bool]:
        """phrase_break[i]: words i and i+1 are not in one phrase (only initials need it)."""
        return [
            _PHRASE_GAP.fullmatch(self.lower, a.end(), b.start()) is None for a, b in pairwise(self._found)
        ]

    def find(self, name: str) -> str | None:
        """The source's spelling of `name` (lower-case) when it is there as whole words, else None.
        A plural "s" on either side is ignored ("LLMs" = "LLM")."""
        key = "".join(_WORD.findall(fold(name).lower()))
        if not key:
            return None
        keys = [key] + ([key[:-1]] if key.endswith("s") and len(key) > 3 else [])
        for k in keys:
            at = self.squashed.find(k)
            while at != -1:
                end = at + len(k)
                plural = self.squashed[end : end + 1] == "s" and end + 1 in self._end_set
                if at in self._start_set and (end in self._end_set or plural):
                    first = bisect_left(self._starts, at)
                    last = bisect_left(self._ends, end if end in self._end_set else end + 1)
                    return self.lower[self._found[first].start() : self._found[last].end()]
                at = self.squashed.find(k, at + 1)
        return None

    def find_initials(self, abbreviation: str) -> str | None:
        """The phrase whose word initials spell `abbreviation` ("SFT" -> "supervised fine-tuning"), looked
        for in the first INITIALS_WORDS words only: every caller puts the title and abstract first, where a
        paper spells out its terms, and initials read anywhere in a long full text would spell almost any
        short made-up abbreviation. A capital never stands for "of", "the"...; a lower-case letter may
        (the "o" of MoE is "of")."""
        core = abbreviation[:-1] if abbreviation.endswith("s") and len(abbreviation) > 2 else abbreviation
        n = len(core)
        words = self.words[:INITIALS_WORDS]
        for i in range(len(words) - n + 1):
            window = words[i : i + n]
            if all(
                w[0] == c.lower() and w[0].isalpha() and (c.islower() or w not in _GLUE)
                for w, c in zip(window, core, strict=True)
            ) and not any(self.phrase_break[i : i + n - 1]):
                return " ".join(window)
        return None
