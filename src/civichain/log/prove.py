"""Build inclusion and consistency proofs (RFC 9162 §2.1.3.1 and §2.1.4.1) from stored perfect nodes.

Both walk the RFC recursion from the root down, without recursion: each step takes the sibling of the side
that holds the entry (or the old tree's end) and moves into the other side. Only the first step into a left
side can leave a right-edge sibling that is not perfect; it is folded from its perfect pieces. So a proof
reads at most about 2·log2(n) nodes.
"""

from __future__ import annotations

from civichain.log.hashing import SHA256_TREE, TreeHasher
from civichain.log.tree import LogNodes, read_perfect, require_index, require_sizes, split_level, subtree_root


def inclusion_proof(index: int, size: int, nodes: LogNodes, *, hasher: TreeHasher = SHA256_TREE) -> list[bytes]:
    """Return PATH(index, D[size]), the inclusion proof of entry `index` in the first `size` entries of `nodes`.

    Follows RFC 9162 §2.1.3.1; the hashes run from the leaf's sibling up to the root's child. Requires
    0 <= index < size and the stored log to hold at least `size` entries. Raises `log.index_out_of_range`.
    """
    require_index(index, size)
    path = []
    start, end = 0, size
    # Invariant: the entry is in D[start:end], a subtree of the RFC tree; `path` holds its siblings, top first.
    while end - start > 1:
        level = split_level(end - start)
        middle = start + (1 << level)
        if index < middle:
            path.append(subtree_root(middle, end, nodes, hasher))
            end = middle
        else:
            path.append(read_perfect(nodes, level, start >> level, hasher))
            start = middle
    path.reverse()
    return path


def consistency_proof(
    old_size: int, new_size: int, nodes: LogNodes, *, hasher: TreeHasher = SHA256_TREE
) -> list[bytes]:
    """Return PROOF(old_size, D[new_size]), the consistency proof between two sizes of the log in `nodes`.

    Follows RFC 9162 §2.1.4.1; the proof is empty when old_size is 0 or equals new_size. Requires
    0 <= old_size <= new_size and the stored log to hold at least `new_size` entries. Raises
    `log.size_out_of_range`.
    """
    require_sizes(old_size, new_size)
    if old_size == 0 or old_size == new_size:
        return []
    path = []
    start, end, old_root_known = 0, new_size, True
    # Invariant: start < old_size <= end; D[start:end] is the subtree SUBPROOF has reached, and
    # `old_root_known` is its flag b: whether D[start:old_size] is the whole old tree, whose root the verifier has.
    while old_size != end:
        level = split_level(end - start)
        middle = start + (1 << level)
        if old_size <= middle:
            path.append(subtree_root(middle, end, nodes, hasher))
            end = middle
        else:
            path.append(read_perfect(nodes, level, start >> level, hasher))
            start = middle
            old_root_known = False
    if not old_root_known:
        path.append(subtree_root(start, end, nodes, hasher))
    path.reverse()
    return path
