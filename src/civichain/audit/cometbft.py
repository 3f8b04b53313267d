"""Offline checks of a CometBFT v0.39 chain as its JSON-RPC serves it: header hashes, commits and chain links.

An auditor who saved the `/block`, `/commit` and `/validators` answers can check here, without a node and without
trusting the node that served them, that each header hashes to the block id its validators signed, that more than
two thirds of the voting power signed it, and that consecutive headers link up. The byte encodings are CometBFT's
own (types/block.go, canonical.go, vote.go, validator.go, validator_set.go, validation.go at v0.39.4), rebuilt with
the protobuf classes generated from its .proto files; docs/audit-cometbft.md spells them out. Pure: no I/O.
"""

from __future__ import annotations

import base64
import datetime
import re
from dataclasses import dataclass

from google.protobuf import timestamp_pb2, wrappers_pb2

from civichain.abci.messages import canonical, keys, types, validator, version
from civichain.crypto import ED25519_SHA256, sha256
from civichain.errors import CivicError
from civichain.log import SHA256_TREE, root_of

PRECOMMIT = types.SIGNED_MSG_TYPE_PRECOMMIT
FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL = (
    validator.BLOCK_ID_FLAG_ABSENT, validator.BLOCK_ID_FLAG_COMMIT, validator.BLOCK_ID_FLAG_NIL)
ED25519_KEY_TYPE = "tendermint/PubKeyEd25519"
ADDRESS_SIZE = 20  # an address is the first 20 bytes of SHA-256(public key)
HASH_SIZE = 32

# The header fields hashed as cdcEncode(bytes), in the order of Header.Hash, after the five leading leaves.
HASHED_BYTE_FIELDS = (
    "last_commit_hash", "data_hash", "validators_hash", "next_validators_hash", "consensus_hash", "app_hash",
    "last_results_hash", "evidence_hash", "proposer_address",
)

INT64_MAX = 2**63 - 1
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1


class AuditError(CivicError):
    """A header, commit or validator set that does not check out; `where` names the height and the object."""


def verify_commit(chain_id: str, header: dict, commit: dict, validators: list[dict]) -> None:
    """Check that `commit` finalises `header`, signed by more than 2/3 of the voting power of `validators`.

    `header` and `commit` are `result.signed_header` of `/commit?height=H` (or header H with the `last_commit` of
    block H+1); `validators` is `result.validators` of `/validators?height=H`, the set that signs block H. Every
    COMMIT signature must verify for the validator at its index; NIL and absent signatures are skipped and count
    no power. Follows CometBFT `types.VerifyCommit`, which also checks NIL votes' signatures (counting no power
    for them either), after checking the header against the commit's block id and the validators against the
    header. Raises AuditError: audit.malformed, audit.chain_id, audit.height, audit.header_hash,
    audit.validators_hash, audit.signature_count, audit.validator_address, audit.key_type, audit.bad_signature,
    audit.insufficient_power.
    """
    height = _int(_get(header, "height", "header"), "header height", 1, INT64_MAX)
    at = f"height {height}"
    header_chain_id = _str(_get(header, "chain_id", f"{at} header"), f"{at} header chain_id")
    if header_chain_id != chain_id:
        raise AuditError("audit.chain_id", where=f"{at} header chain_id", got=header_chain_id, expected=chain_id)
    commit_height = _int(_get(commit, "height", f"{at} commit"), f"{at} commit height", 0, INT64_MAX)
    if commit_height != height:
        raise AuditError("audit.height", where=f"{at} commit height", got=commit_height, expected=str(height))
    block_hash = header_hash(header)
    block_id = _block_id(_get(commit, "block_id", f"{at} commit"), f"{at} commit block_id")
    if block_id.hash != block_hash:
        raise AuditError("audit.header_hash", where=f"{at} header", got=block_hash.hex().upper(),
                         expected=f"{block_id.hash.hex().upper()}, the block id the commit signs")
    members = _validator_set(validators, f"{at} validators")
    _check_validators_hash(header, members, at)
    _verify_signatures(chain_id, commit, members, at)


def verify_chain_link(previous_header: dict, header: dict, previous_block_id_hash: bytes | None = None) -> None:
    """Check that `header` directly follows `previous_header`.

    Same chain id, consecutive heights, a later time, `last_block_id.hash` equal to the hash of the previous
    header, and the previous header's `next_validators_hash` equal to this header's `validators_hash`.
    `previous_block_id_hash`, when given (the block id a verified commit signed), must also be that hash. The
    part-set half of `last_block_id` is not checked: it needs the previous block's parts. Raises AuditError:
    audit.malformed, audit.chain_id, audit.height, audit.time, audit.header_hash, audit.last_block_id,
    audit.next_validators_hash.
    """
    previous_height = _int(_get(previous_header, "height", "previous header"), "previous header height",
                           1, INT64_MAX)
    height = _int(_get(header, "height", "header"), "header height", 1, INT64_MAX)
    at = f"height {height}"
    previous_chain_id = _str(_get(previous_header, "chain_id", f"height {previous_height} header"),
                             f"height {previous_height} header chain_id")
    chain_id = _str(_get(header, "chain_id", f"{at} header"), f"{at} header chain_id")
    if chain_id != previous_chain_id:
        raise AuditError("audit.chain_id", where=f"{at} header chain_id", got=chain_id,
                         expected=f"{previous_chain_id}, the chain id at height {previous_height}")
    if height != previous_height + 1:
        raise AuditError("audit.height", where=f"{at} header height", got=height,
                         expected=f"{previous_height + 1}, the height after {previous_height}")
    _check_time_advances(previous_header, header, previous_height, at)
    previous_hash = header_hash(previous_header)
    if previous_block_id_hash is not None and previous_block_id_hash != previous_hash:
        raise AuditError("audit.header_hash", where=f"height {previous_height} header",
                         got=previous_hash.hex().upper(),
                         expected=f"{previous_block_id_hash.hex().upper()}, the block id given for it")
    last_block_id = _block_id(_get(header, "last_block_id", f"{at} header"), f"{at} header last_block_id")
    if last_block_id.hash != previous_hash:
        raise AuditError("audit.last_block_id", where=f"{at} header last_block_id",
                         got=last_block_id.hash.hex().upper(),
                         expected=f"{previous_hash.hex().upper()}, the hash of header {previous_height}")
    promised = _hex(_get(previous_header, "next_validators_hash", f"height {previous_height} header"),
                    f"height {previous_height} header next_validators_hash", HASH_SIZE)
    actual = _hex(_get(header, "validators_hash", f"{at} header"), f"{at} header validators_hash", HASH_SIZE)
    if actual != promised:
        raise AuditError("audit.next_validators_hash", where=f"{at} header validators_hash",
                         got=actual.hex().upper(),
                         expected=f"{promised.hex().upper()}, the next_validators_hash of header {previous_height}")


def header_hash(header: dict) -> bytes:
    """Return CometBFT's hash of `header` (a `/block` or `/commit` header): its block id hash.

    The RFC 6962 Merkle root of 14 leaves, as `types.Header.Hash`: Version, cdcEncode(ChainID), cdcEncode(Height),
    Time as google.protobuf.Timestamp, LastBlockID, then cdcEncode of the nine hashes in HASHED_BYTE_FIELDS.
    Requires a non-empty validators_hash (CometBFT gives no hash without one). Raises AuditError audit.malformed.
    """
    at = f"height {_label(header)} header"
    chain_version = _get(header, "version", at)
    consensus = version.Consensus(
        block=_int(_get(chain_version, "block", f"{at} version"), f"{at} version block", 0, UINT64_MAX),
        app=_int(_get(chain_version, "app", f"{at} version"), f"{at} version app", 0, UINT64_MAX))
    chain_id = _str(_get(header, "chain_id", at), f"{at} chain_id")
    height = _int(_get(header, "height", at), f"{at} height", 0, INT64_MAX)
    seconds, nanos = timestamp_of(_get(header, "time", at), f"{at} time")
    last_block_id = _block_id(_get(header, "last_block_id", at), f"{at} last_block_id")
    hashes = [_hex(_get(header, name, at), f"{at} {name}") for name in HASHED_BYTE_FIELDS]
    if not hashes[HASHED_BYTE_FIELDS.index("validators_hash")]:
        raise AuditError("audit.malformed", where=f"{at} validators_hash", got="empty", expected="a hash")
    leaves = [
        consensus.SerializeToString(),
        wrappers_pb2.StringValue(value=chain_id).SerializeToString(),
        wrappers_pb2.Int64Value(value=height).SerializeToString(),
        timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos).SerializeToString(),
        last_block_id.header_proto().SerializeToString(),
        *(wrappers_pb2.BytesValue(value=value).SerializeToString() for value in hashes),
    ]
    return _merkle_root(leaves)


def validators_hash(validators: list[dict]) -> bytes:
    """Return the hash of the validator set `validators` (a `/validators` list), as header.validators_hash.

    The RFC 6962 Merkle root of each validator's SimpleValidator{pub_key, voting_power} encoding, in set order:
    voting power descending, then address ascending (`ValidatorsByVotingPower`). Raises AuditError:
    audit.malformed, audit.key_type, audit.validator_address.
    """
    return _merkle_root([member.encoding() for member in _validator_set(validators, "validators")])


def commit_sign_bytes(chain_id: str, commit: dict, index: int) -> bytes:
    """Return the bytes validator `index` signed for `commit`: its CanonicalVote, length-delimited.

    As `Commit.VoteSignBytes`: uvarint(length) ‖ CanonicalVote{type PRECOMMIT, height and round as sfixed64,
    block_id (the commit's for a COMMIT signature, none otherwise), the signature's timestamp, chain_id}.
    Raises AuditError audit.malformed.
    """
    at = f"height {_label(commit)}"
    signatures = _signatures(commit, at)
    if not 0 <= index < len(signatures):
        raise AuditError("audit.malformed", where=f"{at} commit signature index", got=index,
                         expected=f"0 <= index < {len(signatures)}")
    return _sign_bytes(_vote_template(chain_id, commit, at), signatures[index], f"{at} commit signature {index}")


# Validator sets and signatures.


@dataclass(frozen=True, slots=True)
class _Member:
    """One validator of a set: what is hashed and what signs."""

    address: bytes
    public_key: bytes
    voting_power: int

    def encoding(self) -> bytes:
        return validator.SimpleValidator(pub_key=keys.PublicKey(ed25519=self.public_key),
                                         voting_power=self.voting_power).SerializeToString()


def _validator_set(validators: list[dict], at: str) -> list[_Member]:
    if not isinstance(validators, list) or not validators:
        raise AuditError("audit.malformed", where=at, got=type(validators).__name__, expected="a non-empty list")
    members = [_member(entry, f"{at} {position}") for position, entry in enumerate(validators)]
    addresses = [member.address for member in members]
    if len(set(addresses)) != len(addresses):
        raise AuditError("audit.malformed", where=at, got="a validator listed twice", expected="distinct validators")
    # Commit signatures are indexed in set order, so the hash and the signature check both use this order.
    return sorted(members, key=lambda member: (-member.voting_power, member.address))


def _member(entry: dict, where: str) -> _Member:
    pub_key = _get(entry, "pub_key", where)
    key_type = _get(pub_key, "type", f"{where} pub_key")
    if key_type != ED25519_KEY_TYPE:
        raise AuditError("audit.key_type", where=f"{where} pub_key type", got=key_type, expected=ED25519_KEY_TYPE)
    public_key = _base64(_get(pub_key, "value", f"{where} pub_key"), f"{where} pub_key value")
    if len(public_key) != ED25519_SHA256.public_key_size:
        raise AuditError("audit.malformed", where=f"{where} pub_key value", got=f"{len(public_key)} bytes",
                         expected=f"{ED25519_SHA256.public_key_size} bytes")
    address = _hex(_get(entry, "address", where), f"{where} address", ADDRESS_SIZE)
    if address != sha256(public_key)[:ADDRESS_SIZE]:
        raise AuditError("audit.validator_address", where=f"{where} address", got=address.hex().upper(),
                         expected=f"{sha256(public_key)[:ADDRESS_SIZE].hex().upper()}, from its public key")
    power = _int(_get(entry, "voting_power", where), f"{where} voting_power", 1, INT64_MAX)
    return _Member(address, public_key, power)


def _check_validators_hash(header: dict, members: list[_Member], at: str) -> None:
    expected = _hex(_get(header, "validators_hash", f"{at} header"), f"{at} header validators_hash", HASH_SIZE)
    calculated = _merkle_root([member.encoding() for member in members])
    if calculated != expected:
        raise AuditError("audit.validators_hash", where=f"{at} validators", got=calculated.hex().upper(),
                         expected=f"{expected.hex().upper()}, the header's validators_hash")


def _verify_signatures(chain_id: str, commit: dict, members: list[_Member], at: str) -> None:
    signatures = _signatures(commit, at)
    if len(signatures) != len(members):
        raise AuditError("audit.signature_count", where=f"{at} commit signatures", got=len(signatures),
                         expected=f"{len(members)}, one per validator")
    template = _vote_template(chain_id, commit, at)
    total = sum(member.voting_power for member in members)
    signed = 0
    # Every COMMIT signature is checked, not only enough of them: an auditor wants each forgery named.
    for index, (signature, member) in enumerate(zip(signatures, members)):
        where = f"{at} commit signature {index} (validator {member.address.hex().upper()[:8]}…)"
        if _flag(signature, where) != FLAG_COMMIT:
            continue
        address = _hex(_get(signature, "validator_address", where), f"{where} validator_address", ADDRESS_SIZE)
        if address != member.address:
            raise AuditError("audit.validator_address", where=f"{where} validator_address",
                             got=address.hex().upper(), expected=f"{member.address.hex().upper()}, in set order")
        message = _sign_bytes(template, signature, where)
        value = _base64(_get(signature, "signature", where), f"{where} signature")
        if not ED25519_SHA256.verify(member.public_key, message, value):
            raise AuditError("audit.bad_signature", where=where, got=value.hex(),
                             expected="an Ed25519 signature of the precommit by this validator")
        signed += member.voting_power
    # Strictly more than 2/3, in integers: 3·signed > 2·total is CometBFT's signed > total·2/3 (integer division).
    if 3 * signed <= 2 * total:
        raise AuditError("audit.insufficient_power", where=f"{at} commit", got=f"{signed} of {total}",
                         expected=f"more than 2/3 of {total}")


def _signatures(commit: dict, at: str) -> list:
    signatures = _get(commit, "signatures", f"{at} commit")
    if not isinstance(signatures, list):
        raise AuditError("audit.malformed", where=f"{at} commit signatures", got=type(signatures).__name__,
                         expected="a list")
    return signatures


def _flag(signature: dict, where: str) -> int:
    flag = _int(_get(signature, "block_id_flag", where), f"{where} block_id_flag", 0, UINT32_MAX)
    if flag not in (FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL):
        raise AuditError("audit.malformed", where=f"{where} block_id_flag", got=flag,
                         expected="1 (absent), 2 (commit) or 3 (nil)")
    return flag


def _vote_template(chain_id: str, commit: dict, at: str):
    """Return the CanonicalVote shared by all signatures of `commit`, without a timestamp."""
    vote = canonical.CanonicalVote(
        type=PRECOMMIT,
        height=_int(_get(commit, "height", f"{at} commit"), f"{at} commit height", 0, INT64_MAX),
        round=_int(_get(commit, "round", f"{at} commit"), f"{at} commit round", 0, 2**31 - 1),
        chain_id=_str(chain_id, "chain id"))
    block_id = _block_id(_get(commit, "block_id", f"{at} commit"), f"{at} commit block_id")
    if not block_id.is_zero():  # CanonicalizeBlockID: a zero block id is left out, as for a nil vote
        vote.block_id.CopyFrom(block_id.canonical_proto())
    return vote


def _sign_bytes(template, signature: dict, where: str) -> bytes:
    vote = canonical.CanonicalVote()
    vote.CopyFrom(template)
    if _flag(signature, where) != FLAG_COMMIT:  # CommitSig.BlockID: absent and nil votes sign no block
        vote.ClearField("block_id")
    seconds, nanos = timestamp_of(_get(signature, "timestamp", where), f"{where} timestamp")
    vote.timestamp.seconds, vote.timestamp.nanos = seconds, nanos
    vote.timestamp.SetInParent()  # gogoproto non-nullable: emitted even for the Unix epoch
    body = vote.SerializeToString()
    return _uvarint(len(body)) + body


# Block ids, times and the JSON field forms.


@dataclass(frozen=True, slots=True)
class _BlockId:
    hash: bytes
    parts_total: int
    parts_hash: bytes

    def is_zero(self) -> bool:
        return not self.hash and not self.parts_total and not self.parts_hash

    def header_proto(self):
        block_id = types.BlockID(hash=self.hash)
        block_id.part_set_header.total, block_id.part_set_header.hash = self.parts_total, self.parts_hash
        block_id.part_set_header.SetInParent()  # gogoproto non-nullable: `12 00` even when empty (height 1)
        return block_id

    def canonical_proto(self):
        block_id = canonical.CanonicalBlockID(hash=self.hash)
        block_id.part_set_header.total, block_id.part_set_header.hash = self.parts_total, self.parts_hash
        block_id.part_set_header.SetInParent()
        return block_id


def _block_id(value: dict, where: str) -> _BlockId:
    parts = _get(value, "parts", where)
    return _BlockId(hash=_hex(_get(value, "hash", where), f"{where} hash"),
                    parts_total=_int(_get(parts, "total", f"{where} parts"), f"{where} parts total", 0, UINT32_MAX),
                    parts_hash=_hex(_get(parts, "hash", f"{where} parts"), f"{where} parts hash"))


def _check_time_advances(previous_header: dict, header: dict, previous_height: int, at: str) -> None:
    previous_time = timestamp_of(_get(previous_header, "time", f"height {previous_height} header"),
                               f"height {previous_height} header time")
    time = timestamp_of(_get(header, "time", f"{at} header"), f"{at} header time")
    if time <= previous_time:
        raise AuditError("audit.time", where=f"{at} header time", got=header["time"],
                         expected=f"later than {previous_header['time']}, the time at height {previous_height}")


# Go's RFC 3339 with up to nine fraction digits (time.RFC3339Nano drops trailing zeros, and the dot with them).
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))")
_UNIX_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def timestamp_of(text: object, where: str) -> tuple[int, int]:
    """Return (seconds, nanos) since the Unix epoch, as google.protobuf.Timestamp holds `text`.

    Parsed here, not by datetime, which keeps only microseconds; the calendar day comes from `date`, which
    covers years 1 to 9999 (CometBFT's zero time, 0001-01-01T00:00:00Z, marks an absent signature).
    """
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise AuditError("audit.malformed", where=where, got=text, expected="an RFC 3339 time")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction, zulu, sign, offset_hours, offset_minutes = match.group(7, 8, 9, 10, 11)
    try:
        days = datetime.date(year, month, day).toordinal() - _UNIX_EPOCH_ORDINAL
    except ValueError:
        raise AuditError("audit.malformed", where=where, got=text, expected="an RFC 3339 time") from None
    if hour > 23 or minute > 59 or second > 59:
        raise AuditError("audit.malformed", where=where, got=text, expected="an RFC 3339 time")
    offset = 0 if zulu else (int(offset_hours) * 3600 + int(offset_minutes) * 60) * (1 if sign == "+" else -1)
    nanos = int((fraction or "").ljust(9, "0"))
    return days * 86400 + hour * 3600 + minute * 60 + second - offset, nanos


_DECIMAL = re.compile(r"-?[0-9]+")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")


def _get(value: object, key: str, where: str) -> object:
    if not isinstance(value, dict) or key not in value:
        raise AuditError("audit.malformed", where=f"{where} {key}", got="missing", expected=f"a field {key!r}")
    return value[key]


def _label(value: object) -> str:
    """Return the height a JSON object claims, for naming it in errors before it is checked."""
    height = value.get("height") if isinstance(value, dict) else None
    return str(height) if isinstance(height, (str, int)) and not isinstance(height, bool) else "?"


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise AuditError("audit.malformed", where=where, got=value, expected="a string")
    return value


def _int(value: object, where: str, low: int, high: int) -> int:
    """Return an integer the RPC gives as a JSON number (int32, uint32) or a decimal string (int64, uint64)."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise AuditError("audit.malformed", where=where, got=value, expected="an integer")
    if not low <= number <= high:
        raise AuditError("audit.malformed", where=where, got=number, expected=f"from {low} to {high}")
    return number


def _hex(value: object, where: str, size: int | None = None) -> bytes:
    """Return the bytes of a hex string; the empty string is no bytes. With `size`, require that length."""
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise AuditError("audit.malformed", where=where, got=value, expected="hexadecimal bytes")
    data = bytes.fromhex(value)
    if size is not None and len(data) != size:
        raise AuditError("audit.malformed", where=where, got=f"{len(data)} bytes", expected=f"{size} bytes")
    return data


def _base64(value: object, where: str) -> bytes:
    try:
        return base64.b64decode(_str(value, where), validate=True)
    except ValueError:
        raise AuditError("audit.malformed", where=where, got=value, expected="base64 bytes") from None


def _merkle_root(items: list[bytes]) -> bytes:
    """Return CometBFT's merkle.HashFromByteSlices: RFC 6962, so the log's tree hash over these leaves."""
    return root_of([SHA256_TREE.leaf(item) for item in items])


def _uvarint(number: int) -> bytes:
    """Return the protobuf varint of `number` >= 0 (protoio.MarshalDelimited's length prefix)."""
    out = bytearray()
    while number >= 0x80:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)
