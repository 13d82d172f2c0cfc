"""Issue 13's 20-reader benchmark: one day of the bundled sample (2026-02-10, 44 cs.IR papers), one reader
against 20 readers with distinct profiles (interests, keyword groups, muted terms) and three output
languages between them (zh, ja, en), against the fake OpenAI-compatible server (real HTTP on loopback).

Figures: model calls and input tokens (as the server counted them: prompt characters / 4), the 20/1 ratio
of each (goal <= 2.5x: only interest scoring should grow with readers), the 20/1 ratio of wall time and of
the database's size; and the share of non-interest texts that 20 readers' tops would need if each reader
were run on their own (what sharing saves). Interest questions of several readers share calls, up to
[llm].profiles_per_call profiles a call (its default, reported as `profiles_per_call`). A 40-reader run
(readers 20-39: the same topics, distinct interests texts) shows what grows past the point where the
readers' tops already cover the whole day.

    python bench/readers.py            (also part of `make bench`)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from paperradar.config import load_config  # noqa: E402
from paperradar.llm.config import LLMConfig  # noqa: E402
from paperradar.pipeline import Pipeline, process_readers  # noqa: E402
from paperradar.sources.intake import intake_sample  # noqa: E402
from paperradar.store import Store  # noqa: E402
from tests.fake_llm_styles import FakeStyleLLM  # noqa: E402

DAY = "2026-02-10"
READERS = 20
MORE_READERS = 40
LANGUAGES = ("zh", "ja", "en")
LATENCY = 0.02

# Topics the readers' profiles are drawn from: each reader gets three of them as keyword groups, one as the
# interests text, and (every other reader) one more as a muted term.
TOPICS: list[tuple[str, list[str]]] = [
    ("recsys", ["recommendation", "recommender system", "collaborative filtering"]),
    ("dense", ["dense retrieval", "embedding", "bi-encoder"]),
    ("ltr", ["learning to rank", "reranking", "ranking model"]),
    ("llm", ["large language model", "LLM", "generative"]),
    ("rag", ["retrieval-augmented generation", "RAG", "question answering"]),
    ("ctr", ["click-through rate", "CTR prediction", "advertising"]),
    ("eval", ["evaluation", "benchmark", "relevance judgments"]),
    ("graph", ["graph neural network", "knowledge graph", "GNN"]),
    ("search", ["e-commerce search", "query understanding", "sponsored search"]),
    ("user", ["user modeling", "sequential recommendation", "session-based"]),
]


def _endpoint(url: str, model: str) -> str:
    return (
        '[store]\npath = "radar.db"\n[output]\nfolder = "out"\nlanguage = "zh"\n'
        f'[llm]\nbackend = "openai"\nconcurrency = 8\nmax_retries = 0\n'
        f'[[llm.endpoints]]\nbase_url = "{url}"\nmodel = "{model}"\ntimeout = 30\n'
    )


def _reader(i: int) -> str:
    picks = [TOPICS[(i + k) % len(TOPICS)] for k in (0, 3, 7)]
    groups = "".join(f"{name} = {terms!r}\n".replace("'", '"') for name, terms in picks)
    interests = f"Reader {i}: papers on {', '.join(picks[0][1])} and {picks[1][1][0]}"
    text = (
        f'\n[[readers]]\nname = "r{i:02d}"\nlanguage = "{LANGUAGES[i % 3]}"\nlanguages = []\n'
        f'interests = "{interests}"\n[readers.keywords.groups]\n{groups}'
    )
    if i % 2:
        text += f'[readers.muted]\nterms = ["{TOPICS[(i + 5) % len(TOPICS)][1][0]}"]\n'
    return text


def _run(folder: Path, llm: FakeStyleLLM, readers: str) -> dict[str, Any]:
    """One day for the config `readers` (the reader tables, or "" for the single zh reader) in a fresh
    archive in `folder`: the model's calls and input tokens, wall time, database size, the readers' tops."""
    path = folder / "paperradar.toml"
    path.write_text(_endpoint(llm.url, llm.model) + readers, encoding="utf-8")
    cfg = load_config(path)
    with Store(cfg.db_path) as store:
        intake_sample(store, cfg.intake_categories)
        pipe = Pipeline(cfg, store)
        pipe.offline = True
        before = len(llm.chat_calls)
        start = time.perf_counter()
        result = process_readers(pipe, date.fromisoformat(DAY), store.start_run("bench", None))
        wall = time.perf_counter() - start
    calls = llm.chat_calls[before:]
    interest = [c for c in calls if c.task == "interest"]
    tops = [set(_top_ids(r.digest_path)) for r in (result.per_reader or [result])]
    return {
        "calls": len(calls),
        "interest_calls": len(interest),
        "other_calls": len(calls) - len(interest),
        "tokens_in": sum(_tokens(c) for c in calls),
        "interest_tokens_in": sum(_tokens(c) for c in interest),
        "wall_s": wall,
        "db_bytes": sum(p.stat().st_size for p in folder.glob("radar.db*")),
        "tops": tops,
    }


def _fresh(llm: FakeStyleLLM, readers: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="paperradar-readers-") as tmp:
        return _run(Path(tmp), llm, readers)


def _tokens(call: Any) -> int:
    """Input tokens as the fake server reports them in `usage` (prompt characters / 4, rounded up)."""
    return -(-len(call.text) // 4)


def _top_ids(path: Path) -> list[str]:
    import re

    return re.findall(r"arxiv\.org/abs/([0-9.]+)v\d+", path.read_text(encoding="utf-8"))


def bench_readers(latency: float = LATENCY) -> dict[str, Any]:
    llm = FakeStyleLLM(latency=latency).start()
    try:
        one = _fresh(llm, "")  # the single reader of today's config: zh
        trilingual = _fresh(llm, '[styles]\nlanguages = ["ja", "en"]\n')  # one reader, digests in zh+ja+en
        many = _fresh(llm, "".join(_reader(i) for i in range(READERS)))
        forty = _fresh(llm, "".join(_reader(i) for i in range(MORE_READERS)))
        # The same 20 readers the way the field does it today: one install (and archive) per person.
        alone = [_fresh(llm, _reader(i)) for i in range(READERS)]
    finally:
        llm.stop()

    def total(key: str) -> float:
        return float(sum(run[key] for run in alone))

    return {
        "profiles_per_call": LLMConfig().profiles_per_call,
        "one_reader_calls": one["calls"],
        "one_reader_tokens_in": one["tokens_in"],
        "one_trilingual_reader_calls": trilingual["calls"],
        "one_trilingual_reader_tokens_in": trilingual["tokens_in"],
        "twenty_readers_calls": many["calls"],
        "twenty_readers_interest_calls": many["interest_calls"],
        "twenty_readers_tokens_in": many["tokens_in"],
        "calls_ratio_20_vs_1": round(many["calls"] / one["calls"], 2),
        "tokens_in_ratio_20_vs_1": round(many["tokens_in"] / one["tokens_in"], 2),
        "calls_ratio_20_vs_1_trilingual": round(many["calls"] / trilingual["calls"], 2),
        "tokens_in_ratio_20_vs_1_trilingual": round(many["tokens_in"] / trilingual["tokens_in"], 2),
        "non_interest_calls_ratio_20_vs_1_trilingual": round(
            many["other_calls"] / trilingual["other_calls"], 2
        ),
        "interest_share_of_tokens_in_20": round(many["interest_tokens_in"] / many["tokens_in"], 3),
        "wall_ratio_20_vs_1": round(many["wall_s"] / one["wall_s"], 2),
        "db_size_ratio_20_vs_1": round(many["db_bytes"] / one["db_bytes"], 2),
        "distinct_top_papers_20": len(set().union(*many["tops"])),
        "forty_readers_calls": forty["calls"],
        "forty_readers_interest_calls": forty["interest_calls"],
        "forty_readers_tokens_in": forty["tokens_in"],
        "distinct_top_papers_40": len(set().union(*forty["tops"])),
        "calls_ratio_40_vs_20": round(forty["calls"] / many["calls"], 2),
        "tokens_in_ratio_40_vs_20": round(forty["tokens_in"] / many["tokens_in"], 2),
        "non_interest_calls_ratio_40_vs_20": round(forty["other_calls"] / many["other_calls"], 2),
        "separate_installs_calls": int(total("calls")),
        "separate_installs_tokens_in": int(total("tokens_in")),
        "separate_installs_non_interest_calls": int(total("other_calls")),
        "shared_vs_separate_calls": round(many["calls"] / total("calls"), 3),
        "shared_vs_separate_tokens_in": round(many["tokens_in"] / total("tokens_in"), 3),
        "shared_vs_separate_non_interest_calls": round(many["other_calls"] / total("other_calls"), 3),
        "shared_vs_separate_db_size": round(many["db_bytes"] / total("db_bytes"), 3),
        "shared_vs_separate_wall": round(many["wall_s"] / total("wall_s"), 3),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(bench_readers(), indent=2))
