"""Which stale nodes may be deleted when only the newest versions are kept.

Version s lists as stale every node of version s - 1's tree that its own tree no longer uses. Nodes are keyed
by the version that created them, and a version only creates nodes of its own version, so a node that left the
tree at s never comes back: it is reachable from versions before s only. Keeping the versions from `oldest` on,
a node staled by version s may therefore be deleted exactly when s <= oldest.
"""

from __future__ import annotations

from collections.abc import Iterable


def prunable_nodes(stale: Iterable[tuple[int, bytes]], oldest_retained: int) -> list[bytes]:
    """Return the node keys that no retained version reaches, in the order given.

    `stale` holds (version that staled the node, node key) records, as `TreeUpdate.stale` lists them for
    `TreeUpdate.version`. To keep the last W versions of a chain at height h, pass oldest_retained = h - W + 1.
    """
    return [key for staled_by, key in stale if staled_by <= oldest_retained]
