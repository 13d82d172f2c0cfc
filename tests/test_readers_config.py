"""Readers in the config and muted topics: [[readers]] inherit the top-level sections (a file without them is
the one reader "default", resolved to itself); muted terms use the keyword matcher (inflections, phrases),
categories the primary category, authors the followed-author matcher; the digest and the site say how many
were muted and by what, every word in the reader's language."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from paperradar.config import load_config
from paperradar.errors import ConfigError, UsageError
from paperradar.models import Announcement, Interest, MutedSummary, Paper, Ranked
from paperradar.rank.config import MutedConfig
from paperradar.rank.muted import Muter, apply_mutes, split_muted, summarize_mutes
from paperradar.text.labels import muted_text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "paperradar.toml"
    path.write_text('[store]\npath = "radar.db"\n[output]\nfolder = "out"\n' + text, encoding="utf-8")
    return path


def test_a_file_without_readers_is_the_reader_default(tmp_path):
    cfg = load_config(write(tmp_path, ""))
    assert cfg.reader_names() == ["default"]
    assert cfg.for_reader("default") is cfg
    assert cfg.interest_profile is None  # scored exactly as before readers existed
    with pytest.raises(UsageError, match="unknown reader 'bob'"):
        cfg.for_reader("bob")


def test_readers_inherit_the_top_level_sections_and_override_their_own(tmp_path):
    cfg = load_config(
        write(
            tmp_path,
            '[keywords.groups]\nrecsys = ["recommendation"]\n[muted]\nterms = ["survey"]\n'
            '[[readers]]\nname = "ana"\n'
            '[[readers]]\nname = "ben"\nlanguage = "en"\nlanguages = ["ja"]\ninterests = "dense retrieval"\n'
            '[readers.muted]\nterms = ["large language model"]\nmode = "demote"\n',
        )
    )
    ana, ben = cfg.for_reader("ana"), cfg.for_reader("ben")
    assert cfg.reader_names() == ["ana", "ben"]
    assert ana.keywords.groups == ben.keywords.groups == {"recsys": ["recommendation"]}
    assert ana.output.language == "zh" and ben.output.language == "en" and ben.languages == ["en", "ja"]
    assert ana.muted.terms == ["survey"] and ana.muted.mode == "drop"
    assert ben.muted.terms == ["large language model"] and ben.muted.mode == "demote"
    # each non-default reader writes under <folder>/readers/<name>; the two never share an output path
    assert ana.out_dir == tmp_path / "out" / "readers" / "ana"
    assert ben.out_dir == tmp_path / "out" / "readers" / "ben"
    # the interest profile carries the reader: two readers never share a score
    assert ana.interest_profile is not None and ana.interest_profile.reader == "ana"
    assert ben.interest_profile is not None and ben.interest_profile.interests == "dense retrieval"
    assert ben.interest_profile.languages == ("en", "ja")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[[readers]]\nname = "Ana Smith"\n', "is not a reader name"),
        ('[[readers]]\nname = "ana"\n[[readers]]\nname = "ana"\n', "listed twice"),
        ('[[readers]]\nname = "ana"\nlanguage = "fr"\n', "'ana'"),
        ('[[readers]]\nname = "ana"\n[readers.muted]\nmode = "hide"\n', "'ana'"),
        ('[[readers]]\nname = "ana"\n[readers.muted]\ntems = ["x"]\n', "did you mean 'terms'"),
        ('[[readers]]\nname = "ana"\nchannels = ["pigeon"]\n', "unknown channel 'pigeon'"),
    ],
)
def test_a_bad_reader_table_fails_at_load_naming_the_reader(tmp_path, table, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(write(tmp_path, table))


def paper(arxiv_id: str, title: str, abstract: str = "", primary: str = "cs.IR", authors=("A. Writer",)):
    return Paper(arxiv_id, title, list(authors), abstract, categories=[primary])


def ranked(p: Paper, rank: int) -> Ranked:
    ann = Announcement(p.arxiv_id, date(2026, 2, 10), p.primary_category or "cs.IR", "new")
    return Ranked(p, ann, [], [], Interest(3, "r", "heuristic", {}), rank=rank)


def test_muted_terms_match_inflections_and_phrases_categories_the_primary_one_and_authors():
    muter = Muter(
        MutedConfig(
            terms=["recommendation", "large language model"],
            categories=["cs.CV"],
            authors=["Yann LeCun"],
        )
    )
    hits = muter.check_all(
        [
            paper("1", "Sequential Recommendations at Scale"),
            paper("2", "Ranking", "We use Large-Language Models as rankers."),
            paper("3", "Vision Retrieval", primary="cs.CV"),
            paper("4", "Dense Retrieval", authors=("Y. LeCun", "B. Other")),
            paper("5", "Dense Retrieval for Tables"),
            paper("6", "Language models for tables"),  # a part of the phrase is not the phrase
        ]
    )
    assert sorted(hits) == ["1", "2", "3", "4"]
    assert hits["1"][0].kind == "term" and hits["1"][0].matched == "recommendations"
    assert hits["3"][0].kind == "category" and hits["4"][0].kind == "author"


@pytest.mark.parametrize("mode", ["drop", "demote"])
def test_muted_papers_go_last_dropped_or_listed_and_always_counted(mode):
    papers = [paper("1", "Sequential Recommendation"), paper("2", "Dense retrieval"), paper("3", "Tables")]
    order = [ranked(p, i) for i, p in enumerate(papers, 1)]
    muted = Muter(MutedConfig(terms=["recommendation"], mode=mode)).check_all(papers)
    out = apply_mutes(order, muted, mode)
    assert [r.paper.arxiv_id for r in out] == ["2", "3", "1"] and [r.rank for r in out] == [1, 2, 3]
    listed, gone = split_muted(out)
    assert [r.paper.arxiv_id for r in gone] == ["1"]
    assert [r.paper.arxiv_id for r in listed] == (["2", "3", "1"] if mode == "demote" else ["2", "3"])
    assert summarize_mutes(gone) == MutedSummary(1, mode, (("term", "recommendation", 1),))


def test_the_muted_line_is_in_the_readers_language_every_word():
    summary = MutedSummary(3, "drop", (("term", "recommendation", 2), ("category", "cs.CV", 1)))
    zh, ja, en = (muted_text(summary, lang) for lang in ("zh", "ja", "en"))
    assert zh == "3 篇论文已按屏蔽设置略去（词语「recommendation」：2 篇；分类 cs.CV：1 篇）"
    assert (
        ja == "ミュート設定により 3 件の論文を除外しました（語句「recommendation」：2 件、分類 cs.CV：1 件）"
    )
    assert en == '3 paper(s) left out by your mutes (term "recommendation": 2; category cs.CV: 1)'
    # no English word but the configured entries themselves in the zh and ja lines
    for line in (zh, ja):
        assert re.findall(r"[A-Za-z]+", line.replace("recommendation", "").replace("cs.CV", "")) == []
    demoted = muted_text(MutedSummary(1, "demote", (("author", "Y. LeCun", 1),)), "ja")
    assert "末尾" in demoted and "著者 Y. LeCun" in demoted
