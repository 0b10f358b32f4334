"""RFC 6962 / RFC 9162 Merkle trees: hashes, the incremental frontier, proofs and their checks.

leaf = H(0x00 || event), node = H(0x01 || left || right), empty tree = H(""). H is SM3 by
default or SHA-256, chosen per log. Appends keep only the right edge (the roots of the complete
subtrees, one per set bit of the size), so appending costs one leaf hash and on average one node
hash; proofs are computed from the leaf hashes of the stored events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from datapolis.errors import UserError
from datapolis.security.crypto import sm3

Hasher = Callable[[bytes], bytes]


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


HASHES: dict[str, Hasher] = {"sm3": sm3, "sha256": _sha256}


def hasher(name: str) -> Hasher:
    try:
        return HASHES[name]
    except KeyError:
        known = ", ".join(HASHES)
        raise UserError(f"unknown audit hash {name!r}; known: {known}") from None


def leaf_hash(h: Hasher, event: bytes) -> bytes:
    return h(b"\x00" + event)


def node_hash(h: Hasher, left: bytes, right: bytes) -> bytes:
    return h(b"\x01" + left + right)


def append(h: Hasher, frontier: list[bytes], size: int, leaf: bytes) -> int:
    """Add one leaf to the frontier of a tree of `size` leaves, in place; returns the new size."""
    merged, carry = leaf, size
    while carry & 1:
        merged = node_hash(h, frontier.pop(), merged)
        carry >>= 1
    frontier.append(merged)
    return size + 1


def frontier_root(h: Hasher, frontier: Sequence[bytes]) -> bytes:
    if not frontier:
        return h(b"")
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(h, left, root)
    return root


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(h: Hasher, leaves: Sequence[bytes]) -> bytes:
    frontier: list[bytes] = []
    size = 0
    for leaf in leaves:
        size = append(h, frontier, size, leaf)
    return frontier_root(h, frontier)


def inclusion_path(h: Hasher, index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n]) over leaf hashes."""
    if not 0 <= index < len(leaves):
        raise UserError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_path(h, index, leaves[:k]), root(h, leaves[k:])]
    return [*inclusion_path(h, index - k, leaves[k:]), root(h, leaves[:k])]


def consistency_proof(h: Hasher, first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(m, D[n]) over leaf hashes."""
    if not 0 < first <= len(leaves):
        raise UserError(f"no consistency proof from size {first} to size {len(leaves)}")
    return _subproof(h, first, leaves, complete=True)


def _subproof(h: Hasher, m: int, leaves: Sequence[bytes], *, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(h, leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(h, m, leaves[:k], complete=complete), root(h, leaves[k:])]
    return [*_subproof(h, m - k, leaves[k:], complete=False), root(h, leaves[:k])]


def verify_inclusion(
    h: Hasher, *, leaf: bytes, index: int, size: int, path: Sequence[bytes], expected: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does `path` lead from `leaf` at `index` to the root `expected`?"""
    return path_root(h, leaf=leaf, index=index, size=size, path=path) == expected


def path_root(
    h: Hasher, *, leaf: bytes, index: int, size: int, path: Sequence[bytes]
) -> bytes | None:
    """The root that `path` leads to from `leaf` at `index`, or None if the path has the wrong
    length for a tree of `size` (RFC 9162 §2.1.3.2 without the final comparison)."""
    if not 0 <= index < size:
        return None
    fn, sn, computed = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            computed = node_hash(h, sibling, computed)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            computed = node_hash(h, computed, sibling)
        fn >>= 1
        sn >>= 1
    return computed if sn == 0 else None


def verify_consistency(
    h: Hasher,
    *,
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of `second` leaves an extension of the one of `first`?"""
    if first == second:
        return not proof and first_root == second_root
    if not 0 < first < second or (not proof and first & (first - 1)):
        return False
    nodes = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for node in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(h, node, fr)
            sr = node_hash(h, node, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(h, sr, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
