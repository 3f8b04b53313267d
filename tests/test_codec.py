"""The canonical encoding: one byte form per value; everything else is refused with CodecError."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, strategies as st

from civichain.codec import CodecError, decode, encode
from civichain.types import Endorsement, Receipt, Transaction, TxBody

accounts = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}(/[a-z0-9][a-z0-9._-]{0,20})?", fullmatch=True)
names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
args = st.dictionaries(st.text(max_size=8), st.integers(-2**63, 2**63 - 1) | st.text(max_size=20) | st.binary(max_size=20),
                       max_size=5)

bodies = st.builds(
    TxBody,
    chain_id=st.text(min_size=1, max_size=20),
    sender=accounts,
    nonce=st.integers(0, 2**63 - 1),
    expires_at=st.integers(1, 2**63 - 1),
    module=names,
    action=names,
    args=args.map(lambda a: msgspec.Raw(encode(a))),
)
transactions = st.builds(
    Transaction,
    body=bodies,
    endorsements=st.lists(st.builds(Endorsement, account=accounts, signature=st.binary(min_size=1, max_size=80)),
                          max_size=3).map(tuple),
    signature=st.binary(min_size=1, max_size=80),
)


@given(transactions)
def test_encode_then_decode_gives_the_same_transaction_and_bytes(tx):
    data = encode(tx)
    again = decode(data, Transaction)
    assert encode(again) == data
    assert again.body.sender == tx.body.sender and bytes(again.body.args) == bytes(tx.body.args)


@given(transactions, st.data())
def test_decode_of_valid_bytes_re_encodes_to_the_same_bytes(tx, data):
    blob = encode(tx)
    assert encode(decode(blob, Transaction)) == blob


@given(st.binary(max_size=400))
def test_random_bytes_never_raise_anything_but_codec_error(blob):
    try:
        value = decode(blob, Transaction)
    except CodecError:
        return
    assert encode(value) == blob


@given(transactions, st.binary(min_size=1, max_size=8))
def test_trailing_bytes_are_refused(tx, extra):
    with pytest.raises(CodecError) as info:
        decode(encode(tx) + extra, Transaction)
    assert info.value.code == "codec.malformed"


def test_unsorted_map_is_refused():
    # A map {"b": 1, "a": 2} written in insertion order is not the canonical (sorted) form.
    unsorted = b"\x82\xa1b\x01\xa1a\x02"
    with pytest.raises(CodecError) as info:
        decode(unsorted, dict[str, int])
    assert info.value.code == "codec.not_canonical"


def test_long_form_integer_is_refused():
    # 1 written as a uint16 (0xcd 0x00 0x01) instead of the one-byte fixint.
    with pytest.raises(CodecError) as info:
        decode(b"\xcd\x00\x01", int)
    assert info.value.code == "codec.not_canonical"


def test_missing_and_extra_fields_are_refused():
    receipt = Receipt(tx_id=b"\x00" * 32, code="ok")
    fields = msgspec.msgpack.decode(encode(receipt))
    with pytest.raises(CodecError):
        decode(msgspec.msgpack.encode(fields[:-1] + [1, 2]), Receipt)   # one field too many
    with pytest.raises(CodecError):
        decode(msgspec.msgpack.encode([]), Receipt)                      # every field missing


def test_wrong_type_and_oversized_field_are_refused():
    with pytest.raises(CodecError):
        decode(encode("text"), int)
    oversized = Transaction(TxBody("c" * 51, "a", 0, 1, "m", "a", msgspec.Raw(encode(1))), (), b"s")
    with pytest.raises(CodecError):
        decode(encode(oversized), Transaction)


def test_floats_are_not_a_value_of_any_transaction_field():
    body = [ "c", "a", 1.0, 1, "m", "a", 1]
    with pytest.raises(CodecError):
        decode(msgspec.msgpack.encode([body, [], b"s"]), Transaction)


# A fresh process whose threads all make their first decoder of the same types at once, switching threads as
# often as possible: with msgspec's own decoders made concurrently, about one such process in four crashed
# (SIGSEGV in json_decode_struct_map_inner; the API's request threads died of it in the fault drills).
FIRST_USE_RACE = """
import sys, threading
from civichain.codec import decode, json_decoder
from civichain.types import AppGenesis, Transaction
from tests.conftest import Chain

chain = Chain()
genesis, tx = chain.genesis_bytes(), chain.anchor(chain.admin, 0)
sys.setswitchinterval(1e-6)
start = threading.Barrier(8)

def first_use():
    start.wait()
    json_decoder(AppGenesis).decode(genesis)
    decode(tx, Transaction)

threads = [threading.Thread(target=first_use) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def test_threads_making_their_first_decoders_at_once_do_not_crash():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    crashed = []
    for _ in range(16):   # ~4 of 16 crashed before the fix
        run = subprocess.run([sys.executable, "-c", FIRST_USE_RACE], env=env, capture_output=True, timeout=60)
        if run.returncode != 0:
            crashed.append((run.returncode, run.stderr.decode(errors="replace")[-300:]))
    assert not crashed, crashed
