"""The a2a3 machine that programs are checked against and simulated on: its core counts
and the SPMD launch limits that follow from them."""

from __future__ import annotations

CLUSTERS = 24  # clusters of one AIC and two AIV cores (the platform's largest block_dim)
AIV_PER_CLUSTER = 2
MAX_BLOCKS = 32767  # the launch's block count is an int16


def sync_start_limit(shape: str, clusters: int = CLUSTERS,
                     aiv_per_cluster: int = AIV_PER_CLUSTER) -> int:
    """The most blocks a require_sync_start task of this resource shape may have: every
    block must start at once, so the AIV cores for a vector task, the clusters otherwise
    (a cube core per cluster, or a whole cluster for a mixed task)."""
    return clusters * aiv_per_cluster if shape == "aiv" else clusters
