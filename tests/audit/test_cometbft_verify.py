"""The CometBFT audit checks against real 1- and 4-validator networks, and against vectors from CometBFT's Go code.

Each network runs only long enough to download heights 1..LAST+1 through the JSON-RPC, as an auditor would; the
checks then run offline over the saved answers, and every tampered copy must fail with the right code and height.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass

import httpx
import pytest

from civichain.audit import (
    AuditError,
    commit_sign_bytes,
    header_hash,
    validators_hash,
    verify_chain_link,
    verify_commit,
)
from tests.network.netutil import running_network, wait_for_height

pytestmark = pytest.mark.network

LAST = 4          # heights 1..LAST are audited; block LAST+1 carries the last commit of LAST
TAMPERED = 3      # the height the tampering tests change


@dataclass(frozen=True)
class Download:
    """What an auditor saved from one node: `/block`, `/commit` and `/validators` answers by height."""

    chain_id: str
    blocks: dict[int, dict]
    commits: dict[int, dict]
    validators: dict[int, list[dict]]

    def header(self, height: int) -> dict:
        return copy.deepcopy(self.commits[height]["header"])

    def commit(self, height: int) -> dict:
        return copy.deepcopy(self.commits[height]["commit"])

    def validator_set(self, height: int) -> list[dict]:
        return copy.deepcopy(self.validators[height])


@pytest.fixture(scope="module", params=[1, 4], ids=["1-validator", "4-validators"])
def chain(request, tmp_path_factory) -> Download:
    with running_network(tmp_path_factory.mktemp("audit"), validators=request.param) as (network, _):
        wait_for_height(network, LAST + 1, timeout=60)
        rpc = network.nodes[0].rpc_url

        def result(path: str, height: int) -> dict:
            params = {"height": str(height)} | ({"per_page": "100"} if path == "validators" else {})
            answer = httpx.get(f"{rpc}/{path}", params=params, timeout=5).json()
            return answer["result"]

        heights = range(1, LAST + 2)
        return Download(network.chain_id,
                        blocks={h: result("block", h) for h in heights},
                        commits={h: result("commit", h)["signed_header"] for h in heights},
                        validators={h: result("validators", h)["validators"] for h in heights})


# The untouched chain verifies.


def test_header_hash_is_the_block_id_hash_at_every_height(chain):
    for height in range(1, LAST + 2):
        block = chain.blocks[height]
        assert header_hash(block["block"]["header"]).hex().upper() == block["block_id"]["hash"]
        assert header_hash(chain.header(height)).hex().upper() == chain.commit(height)["block_id"]["hash"]


def test_validators_hash_is_the_headers_at_every_height(chain):
    for height in range(1, LAST + 2):
        assert validators_hash(chain.validator_set(height)).hex().upper() == chain.header(height)["validators_hash"]


def test_commit_of_every_height_verifies_against_its_validators(chain):
    for height in range(1, LAST + 1):
        verify_commit(chain.chain_id, chain.header(height), chain.commit(height), chain.validator_set(height))


def test_last_commit_in_the_next_block_verifies_too(chain):
    for height in range(1, LAST + 1):
        last_commit = chain.blocks[height + 1]["block"]["last_commit"]
        verify_commit(chain.chain_id, chain.header(height), last_commit, chain.validator_set(height))


def test_consecutive_headers_link(chain):
    for height in range(2, LAST + 2):
        previous_hash = bytes.fromhex(chain.commit(height - 1)["block_id"]["hash"])
        verify_chain_link(chain.header(height - 1), chain.header(height), previous_hash)
        verify_chain_link(chain.header(height - 1), chain.header(height))


# Every tampered copy is refused, naming the height.


def refused(code: str, height: int, check, *args) -> AuditError:
    with pytest.raises(AuditError) as caught:
        check(*args)
    assert caught.value.code == code
    assert caught.value.where.startswith(f"height {height} "), caught.value.where
    return caught.value


def verify_tampered(chain, height, header=None, commit=None, validators=None, chain_id=None):
    verify_commit(chain_id or chain.chain_id, header or chain.header(height), commit or chain.commit(height),
                  validators or chain.validator_set(height))


def flip_hex(text: str, position: int = 0) -> str:
    flipped = format(int(text[position], 16) ^ 1, "X")
    return text[:position] + flipped + text[position + 1:]


def first_signed(commit: dict) -> int:
    return next(i for i, signature in enumerate(commit["signatures"]) if signature["block_id_flag"] == 2)


def test_flipped_signature_byte_is_a_bad_signature(chain):
    commit = chain.commit(TAMPERED)
    index = first_signed(commit)
    signature = bytearray(base64.b64decode(commit["signatures"][index]["signature"]))
    signature[10] ^= 0x01
    commit["signatures"][index]["signature"] = base64.b64encode(bytes(signature)).decode()
    error = refused("audit.bad_signature", TAMPERED, verify_tampered, chain, TAMPERED, None, commit)
    assert f"signature {index} (validator " in error.where


def test_changed_signature_timestamp_is_a_bad_signature(chain):
    commit = chain.commit(TAMPERED)
    index = first_signed(commit)
    commit["signatures"][index]["timestamp"] = flip_hex(commit["signatures"][index]["timestamp"], 18)
    refused("audit.bad_signature", TAMPERED, verify_tampered, chain, TAMPERED, None, commit)


def test_flipped_app_hash_breaks_the_header_hash(chain):
    header = chain.header(TAMPERED)
    header["app_hash"] = flip_hex(header["app_hash"], 5)
    refused("audit.header_hash", TAMPERED, verify_tampered, chain, TAMPERED, header)


def test_changed_time_breaks_the_header_hash(chain):
    header = chain.header(TAMPERED)
    header["time"] = flip_hex(header["time"], 18)  # the last digit of the seconds
    refused("audit.header_hash", TAMPERED, verify_tampered, chain, TAMPERED, header)


def test_changed_voting_power_breaks_the_validators_hash(chain):
    validators = chain.validator_set(TAMPERED)
    validators[-1]["voting_power"] = str(int(validators[-1]["voting_power"]) ^ 1)
    refused("audit.validators_hash", TAMPERED, verify_tampered, chain, TAMPERED, None, None, validators)


def test_commit_under_two_thirds_of_the_power_is_refused(chain):
    commit = chain.commit(TAMPERED)
    signatures = commit["signatures"]
    for index in range((len(signatures) + 1) // 2):  # equal powers: at most half remain
        signatures[index] = {"block_id_flag": 1, "validator_address": "", "timestamp": "0001-01-01T00:00:00Z",
                             "signature": None}
    error = refused("audit.insufficient_power", TAMPERED, verify_tampered, chain, TAMPERED, None, commit)
    assert error.where == f"height {TAMPERED} commit"


def test_nil_vote_counts_no_power(chain):
    commit = chain.commit(TAMPERED)
    for signature in commit["signatures"][: (len(commit["signatures"]) + 1) // 2]:
        signature["block_id_flag"] = 3  # its signature is of the block, so checking it would fail: it is skipped
    refused("audit.insufficient_power", TAMPERED, verify_tampered, chain, TAMPERED, None, commit)


def test_wrong_chain_id_is_refused(chain):
    refused("audit.chain_id", TAMPERED, verify_tampered, chain, TAMPERED, None, None, None, "other-net")


def test_commit_of_another_height_is_refused(chain):
    refused("audit.height", TAMPERED, verify_tampered, chain, TAMPERED, None, chain.commit(TAMPERED + 1))


def test_commit_of_another_block_at_the_same_height_is_refused(chain):
    commit = chain.commit(TAMPERED)
    commit["block_id"]["hash"] = chain.commit(TAMPERED + 1)["block_id"]["hash"]
    refused("audit.header_hash", TAMPERED, verify_tampered, chain, TAMPERED, None, commit)


def test_signature_from_another_validator_than_its_slot_is_refused(chain):
    commit = chain.commit(TAMPERED)
    index = first_signed(commit)
    commit["signatures"][index]["validator_address"] = flip_hex(commit["signatures"][index]["validator_address"])
    refused("audit.validator_address", TAMPERED, verify_tampered, chain, TAMPERED, None, commit)


def test_missing_signature_slot_is_refused(chain):
    commit = chain.commit(TAMPERED)
    commit["signatures"].pop()
    refused("audit.signature_count", TAMPERED, verify_tampered, chain, TAMPERED, None, commit)


def test_broken_links_are_refused(chain):
    previous, header = chain.header(TAMPERED - 1), chain.header(TAMPERED)
    wrong_parent = copy.deepcopy(header)
    wrong_parent["last_block_id"]["hash"] = flip_hex(wrong_parent["last_block_id"]["hash"])
    refused("audit.last_block_id", TAMPERED, verify_chain_link, previous, wrong_parent)
    refused("audit.height", TAMPERED + 1, verify_chain_link, previous, chain.header(TAMPERED + 1))
    other_chain = copy.deepcopy(header) | {"chain_id": "other-net"}
    refused("audit.chain_id", TAMPERED, verify_chain_link, previous, other_chain)
    other_set = copy.deepcopy(header) | {"validators_hash": flip_hex(header["validators_hash"])}
    refused("audit.next_validators_hash", TAMPERED, verify_chain_link, previous, other_set)
    earlier = copy.deepcopy(header) | {"time": previous["time"]}
    refused("audit.time", TAMPERED, verify_chain_link, previous, earlier)
    refused("audit.header_hash", TAMPERED - 1, verify_chain_link, previous, header, bytes(32))


# Vectors printed by a Go program calling CometBFT v0.39.4's own functions (types.Commit.VoteSignBytes,
# types.Header.Hash, types.NewValidatorSet(...).Hash) on the values below.

VECTOR_BLOCK_ID = {"hash": bytes(range(32)).hex().upper(), "parts": {"total": 1, "hash": "00" * 32}}
VECTOR_TIME = "2026-11-25T02:58:26.273199171Z"
VECTOR_COMMIT = {"height": "300", "round": 2, "block_id": VECTOR_BLOCK_ID, "signatures": [
    {"block_id_flag": 2, "validator_address": "00" * 20, "timestamp": VECTOR_TIME, "signature": "AQ=="},
    {"block_id_flag": 3, "validator_address": "00" * 20, "timestamp": VECTOR_TIME, "signature": "AQ=="},
    {"block_id_flag": 1, "validator_address": "", "timestamp": "0001-01-01T00:00:00Z", "signature": None},
]}
VECTOR_BLOCK_ID_HEX = ("22480a20000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f1224080112200000000000"
                       "000000000000000000000000000000000000000000000000000000")
VECTOR_SIGN_BYTES = [
    # commit: the block id is signed
    "76" "0802" "112c01000000000000" "190200000000000000" + VECTOR_BLOCK_ID_HEX
    + "2a0c08d29d99d80610c3e0a28201" "3208746573742d6e6574",
    # nil: no block id
    "2c" "0802" "112c01000000000000" "190200000000000000" "2a0c08d29d99d80610c3e0a28201" "3208746573742d6e6574",
    # absent: no block id, Go's zero time (year 1: negative seconds, a ten-byte varint)
    "2b" "0802" "112c01000000000000" "190200000000000000" "2a0b088092b8c398feffffff01" "3208746573742d6e6574",
]


@pytest.mark.parametrize("index", range(3), ids=["commit", "nil", "absent"])
def test_sign_bytes_are_cometbfts(index):
    assert commit_sign_bytes("test-net", VECTOR_COMMIT, index).hex() == VECTOR_SIGN_BYTES[index]


def test_sign_bytes_keep_an_epoch_timestamp_and_omit_round_zero():
    commit = {"height": "5", "round": 0, "block_id": VECTOR_BLOCK_ID,
              "signatures": [{"block_id_flag": 2, "timestamp": "1970-01-01T00:00:00Z"}]}
    expected = "5a" "0802" "110500000000000000" + VECTOR_BLOCK_ID_HEX + "2a00" "320163"
    assert commit_sign_bytes("c", commit, 0).hex() == expected


def test_header_hash_is_cometbfts_for_empty_fields_and_times_before_1970():
    header = {"version": {"block": "11", "app": "0"}, "chain_id": "civichain-audit-vector", "height": "1",
              "time": "1969-12-31T23:59:59.5Z", "last_block_id": {"hash": "", "parts": {"total": 0, "hash": ""}},
              "last_commit_hash": "", "data_hash": "", "validators_hash": "00" * 32, "next_validators_hash": "AB",
              "consensus_hash": "", "app_hash": "", "last_results_hash": "", "evidence_hash": "",
              "proposer_address": ""}
    assert header_hash(header).hex() == "5694a4df6824093eea2c6121e77a4ca31f507ea72fe31d985736962665dac4e2"
    header |= {"height": "2", "time": "2026-01-02T03:04:05.1Z",
               "last_block_id": {"hash": "0102", "parts": {"total": 3, "hash": "04"}}}
    assert header_hash(header).hex() == "5bc0479896b56e0b3fa7db01f69904922cb7672fbdd48f91fd05248a25809714"


def test_validators_hash_orders_by_power_then_address():
    def entry(address, key, power):
        return {"address": address, "pub_key": {"type": "tendermint/PubKeyEd25519", "value": key},
                "voting_power": power, "proposer_priority": "0"}
    validators = [  # listed out of set order; the set is 3BBE (10), 5B57 (10), 80B5 (7), 490D (5)
        entry("490DE3AC585CFE8A4537AFA8C1652C54198CEEEE", "+H8EkeJqQ/qd1QCFzAEN362lgwFUB4T1FVn1XTo6thk=", "5"),
        entry("3BBE5E1A1C461115EE7D20CABB9A664656795139", "/M2oipgongx9D8ejd14qHfddeC0yiDHjeoV7iz9gUY0=", "10"),
        entry("80B50D7FE6A85018D303B967B0EF214F3502C2F8", "pyGPXJfhSSIHp0otQq0DeNBfD2LJpYh5xKD9YWGwaFM=", "7"),
        entry("5B5774E7BC6FC897A139CDCDE27769A28A95E773", "u8i0ulfgHrvmTQ/AkOGHRAin8JOmPj1Z42Ow74CpOPE=", "10"),
    ]
    expected = "d110b568d8fef89a66469cdb2b64e7c06a2c1bf9bcd30fb323fc66934319f8fd"
    assert validators_hash(validators).hex() == expected
    assert validators_hash(validators[::-1]).hex() == expected


def test_validator_whose_address_is_not_its_key_is_refused():
    validators = [{"address": "00" * 20, "pub_key": {"type": "tendermint/PubKeyEd25519",
                                                     "value": base64.b64encode(bytes(32)).decode()},
                   "voting_power": "10"}]
    with pytest.raises(AuditError) as caught:
        validators_hash(validators)
    assert caught.value.code == "audit.validator_address"
