"""`paperradar eval`: measure a ranker on a reader's real picks, against built-in baselines.

See `run.py` for the engine and its no-leakage rule, `pools.py` for building candidate pools from a
category's listings, `metrics.py` for recall@k / nDCG@k / MRR, `bench.py` for the shared-data run.
"""

from paperradar.evaluate.baselines import ArxivSanityLiteRanker, ZoteroArxivDailyRanker
from paperradar.evaluate.metrics import METRICS, day_metrics, mrr, ndcg_at_k, recall_at_k
from paperradar.evaluate.pools import build_pools, listing_days
from paperradar.evaluate.run import (
    EvalReport,
    KeywordRanker,
    PaperradarRanker,
    Pick,
    Pool,
    RandomRanker,
    Ranker,
    default_rankers,
    evaluate,
    format_table,
    history_until,
    read_picks,
    read_pools,
    write_pools,
)

__all__ = [
    "METRICS",
    "ArxivSanityLiteRanker",
    "EvalReport",
    "KeywordRanker",
    "PaperradarRanker",
    "Pick",
    "Pool",
    "RandomRanker",
    "Ranker",
    "ZoteroArxivDailyRanker",
    "build_pools",
    "day_metrics",
    "default_rankers",
    "evaluate",
    "format_table",
    "history_until",
    "listing_days",
    "mrr",
    "ndcg_at_k",
    "read_picks",
    "read_pools",
    "recall_at_k",
    "write_pools",
]
