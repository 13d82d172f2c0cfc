"""The ranker's model fits run BLAS on one thread.

Its problems are small (a few thousand shown papers by a dozen formula features; a sparse tf-idf matrix):
OpenBLAS's threads cost more in hand-offs than they give, and on a busy machine they wait for each other.
Measured on 2 cores under load: a week of daily `paperradar eval` fits took 20.4 s with OpenBLAS's 2
threads and 2.1 s with one; five LogisticRegression fits of 2,000 x 12, 0.24 s against 0.04 s.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from threadpoolctl import threadpool_limits


def one_blas_thread() -> AbstractContextManager[object]:
    """BLAS (OpenBLAS, MKL) limited to one thread inside the `with` block, restored after it."""
    limits: AbstractContextManager[object] = threadpool_limits(limits=1, user_api="blas")
    return limits
