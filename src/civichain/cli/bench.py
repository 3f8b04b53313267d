"""Benchmarks and fault drills on real local networks: `civichain bench ...` and `civichain chaos`.

These commands start processes of their own; SIGTERM stops them before the command exits.
"""

from __future__ import annotations

import json
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from civichain.cli.common import EXIT_PROBLEM, EXIT_RUNTIME, app, console, err

bench_app = typer.Typer(help="Benchmarks on real local networks; they print their figures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("ledger")
def bench_ledger(
    txs: int = typer.Option(30_000, help="Transactions to commit."),
    accounts: int = typer.Option(100, help="Bench accounts sending them."),
    timeout_commit: str = typer.Option("300ms", help="CometBFT timeout_commit."),
    verify: bool = typer.Option(True, help="Then export the chain and time `civichain verify` on it."),
    signature_workers: str = typer.Option("", help="Each app's CheckTx signature workers (0, a number, or auto); "
                                          "default: as `civichain init` sets them (auto for a node alone on "
                                          "its host, 0 when nodes share it)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Committed tx/s of one validator (full checks, durable commits), then `civichain verify`'s speed on its chain.

    Example: civichain bench ledger --txs 30000
    Memory soak: civichain bench ledger --txs 1000000 --no-verify (prints node0's app memory along the run)
    """
    from civichain.bench.network import run_bench

    with _stopped_by_sigterm():
        result = run_bench(validators=1, total=txs, rate=None, accounts_per_node=accounts,
                           timeout_commit=timeout_commit, report=lambda line: err.print(line), verify=verify,
                           signature_workers=_workers_option(signature_workers))
    _print_figures("bench ledger (1 validator)", result, as_json)


def _workers_option(text: str) -> int | str | None:
    """Read --signature-workers: "" (init's choice), "auto" or a whole number from 0 to 16."""
    from civichain.node.config import SIGNATURE_WORKERS_EXPECTED, ConfigError, valid_signature_workers

    if text == "":
        return None
    value = int(text) if text.isdigit() else text
    if not valid_signature_workers(value):
        raise ConfigError("config.invalid", where="--signature-workers", got=text, expected=SIGNATURE_WORKERS_EXPECTED)
    return value


@bench_app.command("app")
def bench_app_cmd(
    blocks: int = typer.Option(20, min=1, help="Blocks to run."),
    block: int = typer.Option(1_000, min=1, help="Transactions per block."),
    backlog: int = typer.Option(1_000, min=0, help="Transactions left waiting in the mempool (re-checked each block)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The app's CPU per transaction in each ABCI phase (CheckTx, proposals, FinalizeBlock, Commit, re-check),
    in one process without CometBFT or sockets, with the cost of one Ed25519 verification on this machine.

    Example: civichain bench app --blocks 20 --block 1000
    """
    from civichain.bench.app import run_app_bench
    from civichain.node.logging import configure_logging

    configure_logging("warning", json_lines=False)   # the app's per-block lines would drown the figures
    figures = run_app_bench(blocks=blocks, block=block, backlog=backlog, report=lambda line: err.print(line))
    _print_figures("bench app (one app, in-process)", figures, as_json)


@bench_app.command("modules")
def bench_modules(
    blocks: int = typer.Option(5, min=0, help="Measured blocks of land and funds transactions, in-process; 0 skips."),
    block_txs: int = typer.Option(2_000, min=1, help="Transactions per measured block."),
    keys: int = typer.Option(1_000_000, min=0, help="State keys to build (the modules' records); 0 skips it."),
    validators: int = typer.Option(4, help="Validators of the network the demo data set is seeded on; 0 skips it."),
    batch: int = typer.Option(5_000, help="Keys written per block when building the state."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The modules at scale, against issue 4's targets: (1) applies BLOCKS blocks of BLOCK_TXS signed land and
    funds transactions in one app, without a network, and prints FinalizeBlock (state root and app hash
    included) and Commit times, median and max; (2) seeds the full demo data set on a fresh local network of
    VALIDATORS and prints how long it took; (3) builds a state of KEYS module records in SQLite and prints the
    proof size, proof verifications per second (decoded from bytes) and the disk it takes. Last, each target
    with its figure: met, NOT MET, or not measured (a part skipped or run below the target's size).

    Example: civichain bench modules --blocks 5 --keys 1000000 --validators 4
    Quick look: civichain bench modules --blocks 2 --block-txs 200 --keys 20000 --validators 0
    """
    from civichain.bench.targets import issue4_targets, target_lines
    from civichain.node.logging import configure_logging

    figures: dict = {}
    if blocks:
        from civichain.bench.block import run_block_bench

        configure_logging("warning", json_lines=False)   # the app's per-block lines would drown the figures
        figures["block"] = run_block_bench(blocks=blocks, block_txs=block_txs, report=lambda line: err.print(line))
    if validators:
        from civichain.demo.bench import run_seed_bench

        with _stopped_by_sigterm():
            figures["demo_seed"] = run_seed_bench(validators=validators, report=lambda line: err.print(line))
    if keys:
        from civichain.bench.modules import run_state_bench

        figures["state"] = run_state_bench(keys=keys, batch=batch, report=lambda line: err.print(line))
    targets = issue4_targets(figures)
    if as_json:
        console.print_json(json.dumps({**figures, "targets": targets}))
        return
    _print_figures("bench modules", figures, as_json)
    console.print("[bold]issue 4 targets[/bold]")
    for line in target_lines(targets):
        console.print(escape(line), highlight=False, soft_wrap=True)


@bench_app.command("network")
def bench_network(
    validators: int = typer.Option(4, help="Validators (each an app and a CometBFT process)."),
    rate: float = typer.Option(1500, help="Offered load, tx/s (0: as fast as accepted)."),
    duration: float = typer.Option(60, help="Seconds of load."),
    accounts: int = typer.Option(50, help="Bench accounts per node."),
    timeout_commit: str = typer.Option("300ms", help="CometBFT timeout_commit."),
    kvstore: bool = typer.Option(True, help="Also measure CometBFT's built-in kvstore on the same load."),
    down: int = typer.Option(0, help="Validators stopped before the load starts (the load goes to the others)."),
    signature_workers: str = typer.Option("", help="Each app's CheckTx signature workers (0, a number, or auto); "
                                          "default: as `civichain init` sets them (auto for a node alone on "
                                          "its host, 0 when nodes share it)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Committed tx/s and commit latency (p50, p99) of a local network, and its ratio to the ceiling of
    CometBFT's built-in kvstore on the same configuration and load.

    Example: civichain bench network --rate 1500 --duration 60
    With one of four validators down: civichain bench network --rate 0 --duration 30 --down 1 --no-kvstore
    """
    from civichain.bench.network import run_bench, run_kvstore_bench

    total = int((rate or 2000) * duration)
    if not 0 <= down < validators:
        from civichain.node.config import ConfigError
        raise ConfigError("config.invalid", where="--down", got=down, expected=f"from 0 to {validators - 1}")
    with _stopped_by_sigterm():
        result = run_bench(validators=validators, total=total, rate=rate or None, accounts_per_node=accounts,
                           timeout_commit=timeout_commit, report=lambda line: err.print(line), down=down,
                           signature_workers=_workers_option(signature_workers))
        figures = {"civichain": result}
        if kvstore:
            # The engine's ceiling: the same number and size of transactions, offered as fast as accepted.
            ceiling = run_kvstore_bench(validators=validators, total=total, rate=None,
                                        timeout_commit=timeout_commit, report=lambda line: err.print(line))
            figures["kvstore"] = ceiling
            figures["ratio_to_kvstore"] = (round(result["tx_per_s"] / ceiling["tx_per_s"], 3)
                                           if ceiling["tx_per_s"] else None)
    _print_figures(f"bench network ({validators} validators)", figures, as_json)


@app.command()
def chaos(
    seed: Optional[int] = typer.Option(None, min=0, help="Seed of the fault schedule (default: a random one, printed)."),
    duration: int = typer.Option(60, min=1, help="Seconds of faults under load (the checks come after)."),
    keep: Optional[Path] = typer.Option(None, "--keep", help="Write the network into this new or empty folder and "
                                        "keep it afterwards, logs included (default: a temporary folder)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (the steps go to stderr)."),
) -> None:
    """Randomised fault run: a 4-validator network on loopback, its peer links through a partition proxy, is put
    through SIGKILLs of apps and CometBFTs, restarts, partitions and heals drawn from the seed, under load. Then
    it checks that commits resume within 30 s of healing, every node has the same block and app hash, every
    acknowledged transaction is on every node, and every node's chain replays to the same hashes. Exit 0 when
    all hold; 1 when a check fails, printing the seed and the command that replays the same schedule.

    Example: civichain chaos --seed 7 --duration 600
    """
    import random

    from civichain.chaos.harness import ChaosFailure, replay_command, run_chaos

    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    out = err if as_json else console

    def show(line: str) -> None:
        out.print(line, markup=False, highlight=False, soft_wrap=True)

    try:
        with _stopped_by_sigterm():
            report = run_chaos(seed, duration, root=keep, report=show)
    except ChaosFailure as exc:
        if as_json:
            console.print_json(json.dumps({"ok": False, **exc.facts(), "seed": seed, "replay": exc.replay}))
        else:
            console.print("[red]CHAOS RUN FAILED[/red] " + escape(f"{exc.code}: {exc.where}: found {exc.got}"),
                          soft_wrap=True)
            show(f"seed {seed}; replay this schedule with: {exc.replay}")
        raise typer.Exit(EXIT_PROBLEM if exc.check_failed else EXIT_RUNTIME)
    except KeyboardInterrupt:
        err.print(escape(f"interrupted; every process stopped. Seed {seed}: {replay_command(seed, duration)}"),
                  soft_wrap=True)
        raise typer.Exit(EXIT_RUNTIME)
    figures = report.facts()
    if as_json:
        console.print_json(json.dumps(figures))
        return
    console.print(f"[green]CHAOS RUN PASSED[/green] seed {seed}: {figures['steps']} steps over {duration} s; "
                  f"{figures['acknowledged']} acknowledged transactions on every node; final height "
                  f"{figures['final_height']}; commits resumed {figures['resumed_after_s']} s after healing; "
                  f"every chain replayed; {figures['seconds']} s in all.", highlight=False, soft_wrap=True)
    console.print(escape(f"replay: {figures['replay']}"), highlight=False, soft_wrap=True)


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt, so that `finally` blocks stop the processes a command started.

    Only the first: another SIGTERM while they run must not cut the stopping short.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


@contextmanager
def _stopped_by_sigterm():
    """While a command runs processes of its own (networks), SIGTERM — from `timeout`, a CI runner, an operator —
    raises KeyboardInterrupt, so the `finally` blocks that stop those processes run before the command exits."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_figures(title: str, figures: dict, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(figures))
        return
    console.print(f"[bold]{title}[/bold]")
    for key, value in figures.items():
        if isinstance(value, dict):
            console.print(f"  {key}:")
            for k, v in value.items():
                console.print(f"    {k:20} {v}")
        else:
            console.print(f"  {key:22} {value}")
