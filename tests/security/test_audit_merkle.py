"""RFC 6962 trees: the incremental frontier, inclusion and consistency proofs, canonical JSON."""

from __future__ import annotations

import hashlib

import pytest

from datapolis.security.audit import canonical, merkle
from datapolis.security.crypto import sm3


def reference_root(h: merkle.Hasher, leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1, recursive, as the spec writes it."""
    if not leaves:
        return h(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return h(b"\x01" + reference_root(h, leaves[:k]) + reference_root(h, leaves[k:]))


def leaves_of(h: merkle.Hasher, n: int) -> list[bytes]:
    return [merkle.leaf_hash(h, f"event {i}".encode()) for i in range(n)]


@pytest.mark.parametrize("name", ["sm3", "sha256"])
def test_frontier_root_equals_the_recursive_definition(name: str) -> None:
    h = merkle.hasher(name)
    for n in range(0, 40):
        assert merkle.root(h, leaves_of(h, n)) == reference_root(h, leaves_of(h, n)), n


def test_known_sha256_vectors() -> None:
    # Empty tree and one-leaf tree of RFC 6962 with SHA-256 (leaf is the empty string).
    h = merkle.hasher("sha256")
    assert merkle.root(h, []).hex() == hashlib.sha256(b"").hexdigest()
    assert merkle.leaf_hash(h, b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert merkle.hasher("sm3") is sm3


def test_every_inclusion_proof_verifies_and_a_wrong_one_does_not() -> None:
    h = merkle.hasher("sm3")
    for n in range(1, 34):
        leaves = leaves_of(h, n)
        top = merkle.root(h, leaves)
        for m in range(n):
            path = merkle.inclusion_path(h, m, leaves)
            assert merkle.verify_inclusion(h, leaf=leaves[m], index=m, size=n, path=path,
                                           expected=top)
            other = leaves[(m + 1) % n]
            if n > 1:
                assert not merkle.verify_inclusion(h, leaf=other, index=m, size=n, path=path,
                                                   expected=top)
            assert not merkle.verify_inclusion(h, leaf=leaves[m], index=m, size=n,
                                               path=[*path, top], expected=top)


def test_every_consistency_proof_verifies_and_a_forked_tree_does_not() -> None:
    h = merkle.hasher("sha256")
    for n in range(1, 34):
        leaves = leaves_of(h, n)
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(h, m, leaves)
            args = {"first": m, "second": n, "first_root": merkle.root(h, leaves[:m]),
                    "second_root": merkle.root(h, leaves)}
            assert merkle.verify_consistency(h, proof=proof, **args), (m, n)  # type: ignore[arg-type]
            if m < n:
                forked = [*leaves[: m - 1], h(b"forged"), *leaves[m:]]
                assert not merkle.verify_consistency(
                    h, first=m, second=n, first_root=merkle.root(h, leaves[:m]),
                    second_root=merkle.root(h, forked),
                    proof=merkle.consistency_proof(h, m, forked),
                )


def test_unknown_hash_is_a_clear_error() -> None:
    with pytest.raises(Exception, match="unknown audit hash 'md5'; known: sm3, sha256"):
        merkle.hasher("md5")


def test_canonical_json_is_the_jcs_subset() -> None:
    value = {"b": [1, True, None], "a": "临沂\n\u2028", "c": {"z": 1, "y": "é"}}
    canonical.check_value(value)
    expected = '{"a":"临沂\\n\u2028","b":[1,true,null],"c":{"y":"é","z":1}}'
    assert canonical.dumps(value) == expected.encode()
    assert canonical.is_canonical(canonical.dumps(value))
    assert not canonical.is_canonical(b'{"b": 1, "a": 2}')
    with pytest.raises(canonical.NotCanonical, match="floats are not allowed"):
        canonical.check_value({"x": 1.5})
    with pytest.raises(canonical.NotCanonical, match="outside ±2\\^53"):
        canonical.check_value({"x": 2**60})
    with pytest.raises(canonical.NotCanonical, match="keys must be ASCII"):
        canonical.check_value({"名": 1})
