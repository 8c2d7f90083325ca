"""Writing a generation's dense index: updated in place when possible, rebuilt when not."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.store.layout import VECTORS_FILE
from index.store.segments import SEGMENT_ROWS, RowSpace
from index.store.vectors import (
    FLAT,
    IVF_PQ,
    RETRAIN_GROWTH,
    TRAIN_SAMPLE,
    add_vectors,
    choose_kind,
    new_index,
    remove_ids,
    write_index,
)

log = logging.getLogger(__name__)


def write_dense_index(
    build: Path,
    space: RowSpace,
    base: Path | None,
    base_manifest: dict[str, Any],
    approximate_from: int,
    removed_ids: np.ndarray,
    first_new_id: int,
    dim: int,
) -> dict[str, Any]:
    """Write `build/vectors.faiss` for the live rows of `space`; return its manifest fields.

    When the base generation has an index of the right kind (and an IVF index has not
    outgrown its training), the removed chunks are taken out of a copy of it and the new ones
    (ids from `first_new_id` on) added; otherwise it is built from the float16 rows.
    """
    started = time.perf_counter()
    n_live = space.n_live
    kind = choose_kind(n_live, approximate_from)
    trained_on = int(base_manifest.get("ivf_trained_on", 0))
    reusable = (
        base is not None
        and base_manifest.get("index_type") == kind
        and (kind == FLAT or n_live <= RETRAIN_GROWTH * max(trained_on, 1))
    )
    if reusable:
        assert base is not None
        index = faiss.read_index(str(base / VECTORS_FILE))
        gone = remove_ids(index, removed_ids)
        rows = np.flatnonzero(space.live & (space.chunk_ids >= first_new_id))
        _add_rows(index, space, rows)
        how = f"updated ({gone} removed, {len(rows)} added)"
    else:
        sample = _training_sample(space) if kind == IVF_PQ else None
        if sample is not None:
            trained_on = n_live
        index = new_index(kind, dim, sample, n_live)
        _add_rows(index, space, np.flatnonzero(space.live))
        how = "built"
    write_index(index, build / VECTORS_FILE)
    log.info("%s index %s over %d chunks in %.1f s", kind, how, n_live,
             time.perf_counter() - started)  # fmt: skip
    fields: dict[str, Any] = {"index_type": kind}
    if kind == IVF_PQ:
        fields["ivf_trained_on"] = trained_on
    return fields


def _add_rows(index: faiss.Index, space: RowSpace, rows: np.ndarray) -> None:
    for start in range(0, len(rows), SEGMENT_ROWS):
        part = rows[start : start + SEGMENT_ROWS]
        add_vectors(index, space.chunk_ids[part], space.vectors(part))


def _training_sample(space: RowSpace) -> np.ndarray:
    live = np.flatnonzero(space.live)
    if len(live) > TRAIN_SAMPLE:
        live = np.sort(np.random.default_rng(0).choice(live, TRAIN_SAMPLE, replace=False))
    return space.vectors(live).astype(np.float32)
