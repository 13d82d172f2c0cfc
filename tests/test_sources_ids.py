"""Identifier parsing: every written form maps to one canonical id; garbage and path tricks are refused."""

from __future__ import annotations

import pytest

from paperradar.errors import DataError
from paperradar.sources.ids import from_safe_filename, parse_arxiv_id, safe_filename


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2602.09386", ("2602.09386", None)),
        ("2602.09386v2", ("2602.09386", 2)),
        ("0704.0001", ("0704.0001", None)),
        ("arXiv:2602.09386", ("2602.09386", None)),
        ("ARXIV:2602.09386v12", ("2602.09386", 12)),
        ("https://arxiv.org/abs/2602.09386v1", ("2602.09386", 1)),
        ("http://arxiv.org/pdf/2602.09386v1", ("2602.09386", 1)),
        ("https://arxiv.org/pdf/2602.09386v3.pdf", ("2602.09386", 3)),
        ("https://export.arxiv.org/abs/2602.09386?context=cs", ("2602.09386", None)),
        ("oai:arXiv.org:2602.09386v1", ("2602.09386", 1)),
        ("  2602.09386v2\n", ("2602.09386", 2)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("hep-th/9901001v3", ("hep-th/9901001", 3)),
        ("math.CO/0601001", ("math/0601001", None)),
        ("cond-mat.str-el/0101001v2", ("cond-mat/0101001", 2)),
        ("http://arxiv.org/abs/astro-ph/0601001v1", ("astro-ph/0601001", 1)),
        ("oai:arXiv.org:quant-ph/0201082", ("quant-ph/0201082", None)),
    ],
)
def test_parse_arxiv_id_accepts(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "../../etc/passwd",
        "2602.093",  # too few digits
        "2602.093861",  # too many digits
        "26020.09386",
        "2602.09386v",
        "2602.09386v0",
        "2602.09386/../x",
        "hep-th/990100",
        "hep-th/9901001/../../x",
        "HEP-TH/9901001",
        "https://example.org/abs/2602.09386",
        "२६०२.०९३८६",  # non-ASCII digits must not pass the fast path
        "2602.09386 2602.09387",
    ],
)
def test_parse_arxiv_id_refuses(text: str) -> None:
    with pytest.raises(DataError) as info:
        parse_arxiv_id(text)
    assert repr(text[:40])[:-1] in info.value.message  # the message names the input
    assert info.value.hint


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("2602.09386", "2602.09386"),
        ("2602.09386v2", "2602.09386v2"),
        ("arXiv:2602.09386v2", "2602.09386v2"),
        ("hep-th/9901001", "hep-th_9901001"),
        ("hep-th/9901001v3", "hep-th_9901001v3"),
        ("math.CO/0601001", "math_0601001"),
    ],
)
def test_safe_filename(text: str, name: str) -> None:
    result = safe_filename(text)
    assert result == name
    assert "/" not in result and ".." not in result and "\\" not in result
    assert from_safe_filename(result) == parse_arxiv_id(text)


@pytest.mark.parametrize("text", ["../../etc/passwd", "..", "a/b", "hep-th/../../9901001", ""])
def test_safe_filename_refuses_what_parse_refuses(text: str) -> None:
    with pytest.raises(DataError):
        safe_filename(text)
