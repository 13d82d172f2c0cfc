"""The rank stage: keyword hits, companies, a heuristic interest score, and the digest order."""

from paperradar.rank.companies import Gazetteer
from paperradar.rank.interest import HeuristicInterest
from paperradar.rank.keywords import DERIVATIONS, KeywordMatcher
from paperradar.rank.order import order_ranked

__all__ = ["DERIVATIONS", "Gazetteer", "HeuristicInterest", "KeywordMatcher", "order_ranked"]
