"""The ABCI socket server on a real socket: framing, answers in request order, and CheckTx signatures verified
by worker processes giving exactly the answers CheckTx gives alone."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from hypothesis import given, strategies as st

from civichain.abci.app import AbciApplication
from civichain.abci.messages import abci
from civichain.abci.server import AbciServer, decode_uvarint, encode_uvarint, frame, split_requests
from civichain.crypto.workers import VerifierPool
from civichain.execution.codes import number_of
from tests.audit.test_signature_pipeline import forged
from tests.conftest import make_signer, run_block


@given(st.integers(min_value=0, max_value=2**63))
def test_a_varint_reads_back_and_a_cut_one_reads_as_incomplete(value):
    encoded = encode_uvarint(value)
    assert decode_uvarint(encoded + b"rest", 0) == (value, len(encoded))
    assert decode_uvarint(encoded[:-1], 0) is None


def test_split_requests_leaves_an_incomplete_message_for_the_next_read():
    whole = frame(abci.Request(echo=abci.RequestEcho(message="one"))) + frame(abci.Request(flush=abci.RequestFlush()))
    cut = frame(abci.Request(echo=abci.RequestEcho(message="two")))[:-1]
    requests, consumed = split_requests(whole + cut)
    assert [kind for kind, _ in requests] == ["echo", "flush"] and consumed == len(whole)


def request(**kind) -> bytes:
    return frame(abci.Request(**kind))


async def exchange(address_path, payload: bytes, answers: int) -> list:
    """Send `payload` to the server and read `answers` framed responses."""
    reader, writer = await asyncio.open_unix_connection(str(address_path))
    writer.write(payload)
    await writer.drain()
    buffer, responses = bytearray(), []
    while len(responses) < answers:
        chunk = await asyncio.wait_for(reader.read(1 << 16), timeout=30)
        assert chunk, "the server closed the connection"
        buffer += chunk
        while (header := decode_uvarint(buffer, 0)) is not None and header[1] + header[0] <= len(buffer):
            length, start = header
            responses.append(abci.Response.FromString(bytes(buffer[start:start + length])))
            del buffer[:start + length]
    writer.close()
    return responses


def serve_checks(ledger, socket_path, txs: list[bytes], verifiers: VerifierPool | None) -> tuple[list, int]:
    """Serve `txs` as one batch of new CheckTx then a flush; return the responses and how many signature
    verifications the app's own process made."""
    calls = 0
    suite = ledger.admission.suite

    def counting(*args) -> bool:
        nonlocal calls
        calls += 1
        return suite._verify(*args)

    ledger.admission.suite = dataclasses.replace(suite, _verify=counting)

    async def run() -> list:
        fatal = []
        server = AbciServer(AbciApplication(ledger, verifiers), f"unix://{socket_path}", on_fatal=fatal.append)
        await server.start()
        try:
            payload = b"".join(request(check_tx=abci.RequestCheckTx(tx=raw, type=abci.NEW)) for raw in txs)
            answers = await exchange(socket_path, payload + request(flush=abci.RequestFlush()), len(txs) + 1)
        finally:
            await server.close()
        assert not fatal
        return answers

    try:
        return asyncio.run(run()), calls
    finally:
        ledger.admission.suite = suite


@pytest.mark.parametrize("workers", [0, 2])
def test_check_tx_answers_are_the_same_with_signature_workers(ledger, chain, tmp_path, workers):
    run_block(ledger, [])   # genesis committed: the accounts are in committed state
    good = [chain.anchor(chain.admin, n) for n in range(6)]
    txs = good[:3] + [forged(chain.anchor(chain.clerk, 0)), chain.anchor(make_signer("land-bureau/ghost"), 0),
                      b"not a transaction"] + good[3:] + [good[0]]
    pool = VerifierPool(workers) if workers else None
    try:
        responses, verified_here = serve_checks(ledger, tmp_path / "abci.sock", txs, pool)
    finally:
        if pool is not None:
            pool.close()
    codes = [r.check_tx.code for r in responses[:-1]]
    assert responses[-1].WhichOneof("value") == "flush"
    assert codes[:3] == [0, 0, 0] and codes[6:9] == [0, 0, 0]
    assert codes[3] == number_of("tx.bad_signature")
    assert codes[4] != 0 and codes[5] != 0
    assert codes[9] != 0      # the same transaction again: its nonce is already pending
    # Without workers CheckTx verifies each well-formed transaction of a known account whose nonce is right (the
    # six good ones and the forged one); with them it verifies only what failed in a worker (the forged one).
    assert verified_here == (1 if workers else 7)


def test_signature_workers_die_with_their_parent_even_on_sigkill(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    import psutil

    script = ("import sys, time\nfrom civichain.crypto.workers import VerifierPool\n"
              "pool = VerifierPool(2)\nprint('ready', flush=True)\ntime.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    workers = []
    try:
        assert parent.stdout.readline().strip() == "ready"
        workers = psutil.Process(parent.pid).children()
        assert len(workers) == 2
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, f"workers outlived their parent: {[p.pid for p in alive]}"
    finally:
        if parent.poll() is None:
            parent.kill()
        for worker in workers:
            if worker.is_running():
                worker.kill()


def test_a_long_batch_on_one_connection_lets_another_connection_in(tmp_path):
    """CheckTx that piled up on the mempool connection must not hold back the consensus connection."""
    import time

    calls: list[str] = []

    class SlowChecks:
        def check_tx(self, request):
            calls.append("check_tx")
            time.sleep(0.001)
            return abci.ResponseCheckTx(code=0)

        def info(self, request):
            calls.append("info")
            return abci.ResponseInfo(last_block_height=7)

    socket_path = tmp_path / "abci.sock"

    async def run() -> tuple[list, list]:
        server = AbciServer(SlowChecks(), f"unix://{socket_path}")
        await server.start()
        try:
            checks = b"".join(request(check_tx=abci.RequestCheckTx(tx=b"%d" % i, type=abci.NEW))
                              for i in range(1000)) + request(flush=abci.RequestFlush())
            mempool = asyncio.create_task(exchange(socket_path, checks, 1001))
            await asyncio.sleep(0.1)      # the batch is being answered (it takes about 1 s)
            consensus = await exchange(socket_path, request(info=abci.RequestInfo()) + request(
                flush=abci.RequestFlush()), 2)
            return await mempool, consensus
        finally:
            await server.close()

    answers, consensus = asyncio.run(run())
    assert consensus[0].info.last_block_height == 7 and len(answers) == 1001
    assert all(a.WhichOneof("value") == "check_tx" for a in answers[:1000])
    assert "info" in calls and calls.index("info") < len(calls) - 100, "info waited for the whole batch"
