"""Golden roots and node digests for a fixed history, recorded with the first implementation of the tree.

Node keys, node bytes and the order `apply` lists them in are part of what stored databases and other nodes
depend on; any rewrite of the tree must reproduce these numbers exactly.
"""

from __future__ import annotations

from civichain.crypto import sha256
from .state_support import CLUSTERED_KEYS, Chain


def _key(i: int) -> bytes:
    return b"golden/%d" % i


def _value(i: int, salt: bytes) -> bytes:
    return (sha256(salt + b"%d" % i) * 3)[: i % 70]


def golden_history() -> list[dict[bytes, bytes | None]]:
    """Return batches that insert, update, delete, rewrite unchanged values, delete absent keys, grow deep
    chains of single-child nodes, lift leaves back up through them, empty the tree and fill it again."""
    first = {_key(i): _value(i, b"a") for i in range(300)}
    second: dict[bytes, bytes | None] = {_key(i): _value(i, b"b") for i in range(0, 300, 3)}
    second |= {_key(i): None for i in range(1, 300, 6)}
    second |= {_key(i): _value(i, b"a") for i in range(2, 60, 3)}  # unchanged values
    second |= {_key(i): None for i in range(1000, 1020)}  # absent keys
    second |= {_key(i): _value(i, b"c") for i in range(300, 400)}
    third = {_key(i): None for i in range(0, 400) if i % 37}
    fourth = {key: b"clustered %d" % i for i, key in enumerate(CLUSTERED_KEYS)}
    fifth = {CLUSTERED_KEYS[0]: None, CLUSTERED_KEYS[2]: None, CLUSTERED_KEYS[5]: None, _key(37): b""}
    everything = {**first, **second, **third, **fourth, **fifth}
    seventh = dict.fromkeys(everything)
    eighth = {_key(i): _value(i, b"d") for i in range(0, 500, 7)} | {CLUSTERED_KEYS[4]: b"x"}
    ninth = {_key(i): None for i in range(7, 500, 7)} | {CLUSTERED_KEYS[4]: None}  # one key left, at the root
    lonely = {_key(0): b"still here"}
    pair = {_key(0): b"again", CLUSTERED_KEYS[1]: b"pushes the root leaf down"}
    return [first, second, third, fourth, fifth, {}, seventh, eighth, ninth, lonely, pair, {_key(0): None}]


GOLDEN = [  # (root hash, sha256 over every new node key and node, sha256 over every stale node key), in order
    ('01e8a4ebc9b54d3cd448eb7cde1b290fb89555351aed58c073eca4aa1c6e893b',
     '46d7e9543674066e29b2b9cbc78361ffe9c4fd8e12034546ad2c81bc242b72b2',
     'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
    ('8a3cbe150528d3d6ce34fd5bf920c4cfbb6c12127aa3a9803acb5f3d18fdf598',
     '54a34d808e77ff92bcafd6517edb931b8ed6fe5fe31560646e150e39f6d0ffed',
     'c2ed73a1a73b90ede84a1dfd39c970c9de7338dff740e9ee8ba40bca575b4099'),
    ('25a8bc3440c26b956cd430b314d7396e1bc6e574eca76ee15aff6e949d664564',
     'b193487093815f52fec588996098f0c3d62d0854ce1bc4ff7a83c4e9d70228ed',
     'f319e8f7228a3603fe15cea5e5900f71568e3a1484620fe8a63cf5a0552b8892'),
    ('16c33f7185a3093c106b2753cfd4a43aea81742c8f9e6e38ead0459651197277',
     'bb10f2fbf3472a2409c5e1a83fd7aac3acbb508a002f66bed3c2a33fd3978f40',
     'a082d0eac655b0e40e81cd6ea7e3b52cc19beb2706d908c1dea42ef7ca3842b1'),
    ('24b2ee80993db753bcb03ab95ab335333c7536e733ad6a41601f2150f067c31f',
     '7e3d0b0035858f3a8605539dd6f48ea8e26fb129290737e1193b359dad96a59a',
     '7d253f93c1f42b7422692d256a31c8c44bf1f28fe15c8958e0ba5bd6283f637b'),
    ('24b2ee80993db753bcb03ab95ab335333c7536e733ad6a41601f2150f067c31f',
     'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
     'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
    ('0000000000000000000000000000000000000000000000000000000000000000',
     'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
     '3bb01b24c7ef0089704ce1d6a093240c388ddb37eab9f262d75dc188b8c0967b'),
    ('5c69452d753e26fe83fdbe10335f89d3be9ba3552363a9df1bd38149bc3b0639',
     '620cdd0d594c4f9ceea97bf0f264104e22258406d099627f771aa22b5b02d4e6',
     'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
    ('5d7943ea44f44b79f88640e67d443ecc1322589492ef49d45586566bef813f18',
     'cb4e2585f3b9030d0c275d0660001c4e3df4a3de7e0bf140bdcb6eda944af6e0',
     'cd776a75826963468876143b912dff5ad4e58db939a1b9dcf53408c12c41093f'),
    ('bc1892ac575d2b66f980657baf3b58b77b668d9a92d3f5abe494ded93e49eefc',
     '6bc305b58fe131ba51446d94a6e05685e235fcbefbd1863e62d95cc5928ec555',
     '4c690a049442566008255476218a98fcd853ec6494fb3cff0e109d9aecb831c6'),
    ('4e1f05c98ec4e369c83f84766b9471126630e5b3e8fd75510d5566d15ad2e21a',
     '8fa95265361771c718b9ab13087051dd5b750caebd3892ca1c4891e4712c581e',
     '87325cdc05b770632bcc1db94803f7072f2d7c6e8f3423ecda558cdaaaa87b09'),
    ('3232d194f62c4fca9b010d93ce1c811ad4f7914647e2dfded1bfbd55d609c6d9',
     '37d81a371eeabd7739c54091eff740c3e474889f0949c0b829701b5e108873a0',
     '3bf226a15c931b6558bbd764f6b86c1ccf889305ffd8ce60ac8dd80757a552e3'),
]


def _digests(history: list[dict[bytes, bytes | None]]) -> list[tuple[str, str, str]]:
    chain = Chain()
    result = []
    for changes in history:
        update = chain.commit(changes)
        new = sha256(b"".join(len(key).to_bytes(2, "big") + key + len(node).to_bytes(4, "big") + node
                              for key, node in update.new_nodes))
        stale = sha256(b"".join(len(key).to_bytes(2, "big") + key for key in update.stale))
        result.append((update.root_hash.hex(), new.hex(), stale.hex()))
    return result


def test_fixed_history_gives_the_recorded_roots_nodes_and_stale_keys():
    assert _digests(golden_history()) == GOLDEN
