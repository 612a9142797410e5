"""Deterministic assignment of a visitor to a variation (docs/tracking.md), the same in every implementation.

The algorithm, in full, so that a browser script or an SDK can reimplement it (docs/tracking.md has a
JavaScript version, and tests/vectors/assignment.json holds the vectors every implementation must pass):

1. key   = UTF-8 bytes of `"<experimentId>:<visitorCode>"` (experiment id in decimal, no padding).
2. h     = MurmurHash3 x86_32 of key with seed 0, an unsigned 32-bit integer.
3. point = h / 2**32, a number in [0, 1).
4. Walk the deviations in this order: `origin` first, then the variation ids ascending as integers. Keep a
   running sum (IEEE-754 double, added in that order). The first entry whose running sum is strictly
   greater than `point` is the visitor's variation (`origin` is id 0).
5. If no entry is reached (the deviations sum to less than 1 and the point falls in the rest), the visitor is
   not in the experiment.
"""

from __future__ import annotations

from collections.abc import Mapping

ORIGIN_KEY = "origin"
ORIGIN_ID = 0
SEED = 0

_C1 = 0xCC9E2D51
_C2 = 0x1B873593
_MASK = 0xFFFFFFFF


def murmur3_32(data: bytes, seed: int = SEED) -> int:
    """MurmurHash3 x86_32 of `data`: an unsigned 32-bit integer (Austin Appleby's reference algorithm)."""
    h = seed & _MASK
    length = len(data)
    whole = length - length % 4
    for start in range(0, whole, 4):
        k = int.from_bytes(data[start : start + 4], "little")
        k = (k * _C1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * _C2) & _MASK
        h ^= k
        h = ((h << 13) | (h >> 19)) & _MASK
        h = (h * 5 + 0xE6546B64) & _MASK
    tail = data[whole:]
    if tail:
        k = int.from_bytes(tail, "little")
        k = (k * _C1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * _C2) & _MASK
        h ^= k
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h


def hash_key(experiment_id: int, visitor_code: str) -> bytes:
    """The bytes that are hashed for one visitor in one experiment."""
    return f"{experiment_id}:{visitor_code}".encode()


def bucket_point(experiment_id: int, visitor_code: str) -> float:
    """Where the visitor falls in [0, 1) for this experiment."""
    return murmur3_32(hash_key(experiment_id, visitor_code)) / 2**32


def ordered_deviations(deviations: Mapping[str, float]) -> list[tuple[int, float]]:
    """The deviations as (variation id, share) pairs in assignment order: origin first, then ids ascending."""
    pairs: list[tuple[int, float]] = []
    for key, share in deviations.items():
        if key == ORIGIN_KEY:
            pairs.append((ORIGIN_ID, float(share)))
        else:
            variation_id = int(key)
            if variation_id <= 0:
                raise ValueError(f"deviation key {key!r} is neither 'origin' nor a positive variation id")
            pairs.append((variation_id, float(share)))
    pairs.sort(key=lambda pair: pair[0])
    return pairs


def assign(experiment_id: int, visitor_code: str, deviations: Mapping[str, float]) -> int | None:
    """The variation id the visitor sees (0 = origin), or None when the visitor is not in the experiment."""
    point = bucket_point(experiment_id, visitor_code)
    cumulative = 0.0
    for variation_id, share in ordered_deviations(deviations):
        cumulative += share
        if point < cumulative:
            return variation_id
    return None
