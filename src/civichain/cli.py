"""The `civichain` command: set up, run, use and audit a civichain network.

Exit codes: 0 all well; 1 a check found a problem; 2 bad usage or config; 3 runtime failure.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape

from civichain.errors import CivicError

app = typer.Typer(help="civichain: public records that departments keep together and anyone can verify.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
node_app = typer.Typer(help="Run one node's processes.", no_args_is_help=True)
app.add_typer(node_app, name="node")
keys_app = typer.Typer(help="Account keys: passphrase-sealed key files.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
submit_app = typer.Typer(help="Sign and submit transactions.", no_args_is_help=True)
app.add_typer(submit_app, name="submit")
query_app = typer.Typer(help="Read committed records, each with its proof, checked here.", no_args_is_help=True)
app.add_typer(query_app, name="query")
bench_app = typer.Typer(help="Benchmarks on real local networks; they print their figures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
console = Console()
err = Console(stderr=True)

EXIT_PROBLEM, EXIT_USAGE, EXIT_RUNTIME = 1, 2, 3


def main() -> None:
    """Run the command line, turning our errors into one line with a code and an exit status."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        app()
    except CivicError as exc:
        if debug:
            raise
        err.print(f"[red]error[/red] " + escape(f"{exc.code}: {exc.where} is {exc.got!r}, expected {exc.expected}"))
        sys.exit(EXIT_USAGE if exc.code.startswith(("config.", "keyfile.", "genesis.")) else EXIT_RUNTIME)


@app.command()
def init(
    out: Path = typer.Option(Path("net"), "--out", "-o", help="Folder to create the network in."),
    validators: int = typer.Option(4, "--validators", "-n", help="Number of validator nodes."),
    chain_id: Optional[str] = typer.Option(None, help="Chain id (default: civichain-<random>)."),
    hosts: Optional[str] = typer.Option(None, help="Comma-separated host addresses of the nodes, in order."),
    base_port: int = typer.Option(26600, help="First port; each node uses ten from there."),
    timeout_commit: str = typer.Option("300ms", help="CometBFT timeout_commit (block interval)."),
) -> None:
    """Write a network folder: genesis, each node's CometBFT config and keys, account keys.

    Example: civichain init --validators 4 --out net
    """
    from civichain.engine import find_cometbft
    from civichain.node.network import init_network

    network = init_network(out, validators=validators, binary=find_cometbft(os.environ.get("CIVICHAIN_COMETBFT")),
                           chain_id=chain_id, hosts=hosts.split(",") if hosts else None, base_port=base_port,
                           timeout_commit=timeout_commit)
    console.print(f"Network [bold]{network.chain_id}[/bold] written to {out}/ with {len(network.nodes)} validators:")
    for node in network.nodes:
        console.print(f"  {node.name}  {node.organisation:16}  API {node.api_url}  RPC {node.rpc_url}")
    console.print(f"Start it with: civichain up {out}")


@app.command()
def up(
    net: Path = typer.Argument(Path("net"), help="Network folder made by `civichain init`."),
    seed: bool = typer.Option(False, "--seed", help="Submit some sample records once the network runs."),
    duration: float = typer.Option(0, help="Stop after this many seconds (0: run until Ctrl-C)."),
) -> None:
    """Start every node of a network folder and show their status live; Ctrl-C stops them.

    Example: civichain up net --seed
    """
    from civichain.node.network import load_network
    from civichain.node.supervisor import NodeProcesses
    from civichain.node.status import network_status_table

    network = load_network(net)
    nodes = [NodeProcesses.of(n.home) for n in network.nodes]
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        for node in nodes:
            node.start(("app",))
        for node in nodes:
            node.start(("cometbft", "api"))
        console.print(f"Network {network.chain_id}: {len(nodes)} nodes running.")
        for n in network.nodes:
            console.print(f"  {n.name} ({n.organisation}): API {n.api_url}/docs  CometBFT RPC {n.rpc_url}")
        if seed:
            from civichain.client.sample import seed_sample_records
            count = seed_sample_records(network)
            console.print(f"Submitted {count} sample records.")
        started = time.monotonic()
        with Live(network_status_table(network), console=console, refresh_per_second=1) as live:
            while not stop["now"] and (duration <= 0 or time.monotonic() - started < duration):
                time.sleep(1)
                live.update(network_status_table(network))
                for node in nodes:
                    down = [role for role in ("app", "cometbft", "api") if not node.running(role)]
                    if down:
                        console.print(f"[yellow]{node.config.node.name}: {', '.join(down)} stopped (see "
                                      f"{node.home}/logs/); restarting[/yellow]")
                        node.recover()
    except KeyboardInterrupt:
        pass
    finally:
        console.print("Stopping the network…")
        for node in nodes:
            node.stop()


@app.command()
def status(
    net: Path = typer.Argument(Path("net"), help="Network folder."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show each node's height, app hash, peers and validators.

    Example: civichain status net
    """
    from civichain.node.network import load_network
    from civichain.node.status import collect_status, network_status_table

    network = load_network(net)
    if as_json:
        console.print_json(json.dumps(collect_status(network)))
    else:
        console.print(network_status_table(network))


@app.command()
def export(
    out: Path = typer.Argument(..., help="Chain file to write."),
    home: Path = typer.Option(Path("net/node0"), help="Folder of a running node."),
    height: Optional[int] = typer.Option(None, help="Last CometBFT height to export (default: the latest)."),
) -> None:
    """Write a chain file (blocks, commits, validator sets, app records, log nodes, state) for an auditor.

    Example: civichain export chain.cvc --home net/node0
    """
    from rich.progress import Progress

    from civichain.audit.chainfile import export_chain
    from civichain.node.config import load_node_config
    from civichain.store import Store

    config = load_node_config(home)
    store = Store(config.resolve(home, config.storage.path), readonly=True)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("Exporting", total=None)
        top, app_height = export_chain(store, config.rpc_url, out, up_to=height,
                                       progress=lambda h, total: bar.update(task, completed=h, total=total))
    console.print(f"Wrote {out}: CometBFT heights 1..{top}, app state after height {app_height}.")


@app.command()
def verify(
    source: Path = typer.Argument(..., help="A chain file, or the folder of a running node (exported first)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Audit a chain offline: every commit's signatures, every header, re-execution of every transaction from
    genesis, every app hash, log node and state entry. Exit 0 when all verify, 1 naming the first problem.

    Example: civichain verify chain.cvc
    """
    import tempfile

    from rich.progress import Progress

    from civichain.audit import AuditError
    from civichain.audit.chainfile import ChainFileError, export_chain
    from civichain.audit.replay import verify_chain_file
    from civichain.node.config import load_node_config
    from civichain.store import Store

    with tempfile.TemporaryDirectory(prefix="civichain-export-") as tmp:
        path = source
        if source.is_dir():
            config = load_node_config(source)
            path = Path(tmp) / "chain.cvc"
            export_chain(Store(config.resolve(source, config.storage.path), readonly=True), config.rpc_url, path)
        try:
            with Progress(console=err, transient=True) as bar:
                task = bar.add_task("Verifying", total=None)
                report = verify_chain_file(path, progress=lambda h, total: bar.update(task, completed=h, total=total))
        except (AuditError, ChainFileError) as exc:
            if as_json:
                console.print_json(json.dumps({"ok": False, **exc.facts()}))
            else:
                console.print("[red]NOT VERIFIED[/red] " + escape(f"{exc.code}: {exc.where}: found {exc.got}, expected {exc.expected}"))
            raise typer.Exit(EXIT_PROBLEM)
    figures = {"ok": True, "chain_id": report.chain_id, "heights": report.heights,
               "executed_heights": report.executed_heights, "transactions": report.transactions,
               "commit_signatures": report.commit_signatures, "log_size": report.log_size,
               "log_nodes": report.log_nodes, "state_entries": report.state_entries,
               "seconds": round(report.seconds, 2), "tx_per_s": round(report.tx_per_second(), 1)}
    if as_json:
        console.print_json(json.dumps(figures))
    else:
        console.print(f"[green]VERIFIED[/green] chain {report.chain_id}: {report.heights} headers and commits "
                      f"({report.commit_signatures} signatures), {report.transactions} transactions re-executed over "
                      f"{report.executed_heights} blocks, every app hash equal; log of {report.log_size} entries "
                      f"({report.log_nodes} nodes) and {report.state_entries} state entries rebuilt and equal; "
                      f"{report.seconds:.1f} s ({report.tx_per_second():.0f} tx/s).")


NetOption = typer.Option(Path("net"), "--net", help="Network folder (for node addresses and dev keys).")
NodeOption = typer.Option("node0", "--node", help="Node whose API to use.")


def _api(net: Path, node: str):
    from civichain.client.api import ApiClient
    from civichain.node.network import load_network

    for entry in load_network(net).nodes:
        if entry.name == node:
            return ApiClient(entry.api_url)
    from civichain.node.config import ConfigError
    raise ConfigError("config.invalid", where="--node", got=node, expected=f"a node of {net}/network.toml")


def _signer(net: Path, account: str, key: Optional[Path]):
    from civichain.client.tx import Signer
    from civichain.crypto import ED25519_SHA256, decrypt_key

    path = key or net / "keys" / (account.replace("/", ".") + ".key")
    passphrase = os.environ.get("CIVICHAIN_PASSPHRASE")
    if passphrase is None and (net / "keys" / "PASSPHRASE").exists():
        passphrase = (net / "keys" / "PASSPHRASE").read_text().strip()
    if passphrase is None:
        passphrase = typer.prompt(f"Passphrase of {path}", hide_input=True)
    sealed = decrypt_key(path.read_bytes(), passphrase, where=str(path))
    return Signer(account, sealed.private_key, ED25519_SHA256)


def _send(net: Path, node: str, account: str, key: Optional[Path], module: str, action: str, args) -> dict:
    from civichain.client.tx import build_body, sign

    api = _api(net, node)
    signer = _signer(net, account, key)
    nonce = api.account(account)["next_nonce"]
    status = api.status()
    raw = sign(build_body(status["chain_id"], account, nonce, status["height"] + 1000, module, action, args), signer)
    return api.submit(raw, wait=True)


def _report_submission(answer: dict, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(answer))
        return
    receipt = answer.get("receipt", {})
    if answer.get("status") == "committed":
        console.print(f"[green]committed[/green] tx {answer['tx_id']} at height {answer['height']}")
    elif answer.get("status") == "pending":
        console.print(f"[yellow]pending[/yellow] tx {answer['tx_id']} (not committed yet; query it later)")
    else:
        console.print(f"[red]{answer.get('status')}[/red] tx {answer['tx_id']}: {receipt.get('code')}: "
                      f"{receipt.get('where')} is {receipt.get('got')}, expected {receipt.get('expected')}")
        raise typer.Exit(EXIT_PROBLEM)


@keys_app.command("new")
def keys_new(
    account: str = typer.Argument(..., help="Account id, e.g. land-bureau/alice."),
    out: Path = typer.Option(..., "--out", "-o", help="Key file to write."),
) -> None:
    """Make a new key and seal it with a passphrase (from CIVICHAIN_PASSPHRASE, or asked).

    Example: civichain keys new land-bureau/alice --out alice.key
    """
    from civichain.crypto import ED25519_SHA256, KeyFile, encrypt_key

    if out.exists():
        err.print(f"[red]error[/red] keys.exists: {out} exists; choose another file")
        raise typer.Exit(EXIT_USAGE)
    passphrase = os.environ.get("CIVICHAIN_PASSPHRASE") or typer.prompt("Passphrase", hide_input=True,
                                                                        confirmation_prompt=True)
    suite = ED25519_SHA256
    private = suite.generate_private_key()
    public = suite.public_key(private)
    out.write_bytes(encrypt_key(KeyFile(suite.name, private, public, account), passphrase))
    out.chmod(0o600)
    console.print(f"{account}: public key {public.hex()} (sealed in {out})")


@keys_app.command("show")
def keys_show(path: Path = typer.Argument(..., help="Key file.")) -> None:
    """Print a key file's account label, suite and public key (no passphrase needed).

    Example: civichain keys show alice.key
    """
    document = json.loads(path.read_text())
    console.print(f"{document.get('label')}: {document.get('suite')} public key {document.get('public_key')}")


@submit_app.command("notarize")
def submit_notarize(
    file: Path = typer.Argument(..., help="The document; only its SHA-256 digest goes on chain."),
    title: str = typer.Option(..., help="Title of the document."),
    account: str = typer.Option(..., help="Signing account (a notary or admin)."),
    key: Optional[Path] = typer.Option(None, help="Key file (default: NET/keys/<account>.key)."),
    meta: list[str] = typer.Option([], "--meta", help="Metadata as key=value; repeatable."),
    net: Path = NetOption, node: str = NodeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Anchor a document's digest with a title and metadata, and wait for the commit.

    Example: civichain submit notarize deed.pdf --title "Deed 42" --account land-bureau/admin
    """
    import hashlib

    from civichain.modules.notary import Anchor

    metadata = dict(item.split("=", 1) for item in meta if "=" in item)
    digest = hashlib.sha256(file.read_bytes()).digest()
    answer = _send(net, node, account, key, "notary", "anchor", Anchor(digest=digest, metadata=metadata, title=title))
    if not as_json:
        console.print(f"document {file} digest {digest.hex()}")
    _report_submission(answer, as_json)


@submit_app.command("register-account")
def submit_register_account(
    new_account: str = typer.Argument(..., help="New account id: <organisation>/<name>."),
    public_key: str = typer.Option(..., help="Its public key, hex (see `civichain keys new`)."),
    roles: str = typer.Option("", help="Comma-separated roles, e.g. notary,clerk."),
    account: str = typer.Option(..., help="Signing admin of the organisation."),
    key: Optional[Path] = typer.Option(None, help="Key file (default: NET/keys/<account>.key)."),
    net: Path = NetOption, node: str = NodeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Register an account in the signing admin's organisation, and wait for the commit.

    Example: civichain submit register-account land-bureau/alice --public-key 3a… --roles notary --account land-bureau/admin
    """
    from civichain.modules.registry import AddAccount

    try:
        key_bytes = bytes.fromhex(public_key)
    except ValueError:
        err.print(f"[red]error[/red] cli.bad_public_key: --public-key is {public_key!r}, expected 64 hex digits")
        raise typer.Exit(EXIT_USAGE)
    args = AddAccount(id=new_account, public_key=key_bytes, roles=tuple(r for r in roles.split(",") if r))
    _report_submission(_send(net, node, account, key, "registry", "add_account", args), as_json)


@query_app.command("tx")
def query_tx(tx_id: str = typer.Argument(..., help="Transaction id (hex)."), net: Path = NetOption,
             node: str = NodeOption, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show a transaction with its receipt, and check its inclusion proof.

    Example: civichain query tx 9f2d…
    """
    answer = _api(net, node).tx(tx_id)
    _check_inclusion(answer)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    body = answer["tx"]["body"]
    console.print(f"tx {answer['tx_id']}: {answer['status']} at height {answer['height']}, position {answer['position']}")
    console.print(f"  {body['sender']} → {body['module']}.{body['action']} {json.dumps(body['args'], ensure_ascii=False)}")
    console.print(f"  receipt: {answer['receipt']['code']}")
    if "inclusion" in answer:
        inc = answer["inclusion"]
        console.print(f"  [green]inclusion proof verified[/green]: entry {inc['log_index']} of {inc['log_size']} "
                      f"(log root {inc['log_root'][:16]}…, checkpoint height {inc['checkpoint_height']})")


@query_app.command("block")
def query_block(height: Optional[int] = typer.Argument(None, help="Height (default: the latest)."),
                net: Path = NetOption, node: str = NodeOption,
                as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show a committed block: app hash, roots and receipts.

    Example: civichain query block 12
    """
    answer = _api(net, node).block(height)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    c = answer["checkpoint"]
    console.print(f"block {answer['height']} ({len(answer['txs'])} transactions) app hash {answer['app_hash']}")
    console.print(f"  log size {c['log_size']} root {c['log_root']}\n  state root {c['state_root']}")
    for receipt in answer["txs"]:
        console.print(f"  {receipt['tx_id'][:16]}… {receipt['code']}")


@query_app.command("checkpoint")
def query_checkpoint(net: Path = NetOption, node: str = NodeOption,
                     as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the latest checkpoint and check that it hashes to the app hash of the signed header.

    Example: civichain query checkpoint
    """
    from civichain.crypto import sha256
    from civichain.types import app_hash_of

    answer = _api(net, node).checkpoint()
    c = answer["checkpoint"]
    computed = app_hash_of(sha256, c["log_size"], bytes.fromhex(c["log_root"]), bytes.fromhex(c["state_root"]),
                           bytes.fromhex(c["receipts_root"]))
    header_hash = answer["signed_header"]["header"]["app_hash"].lower()
    if as_json:
        console.print_json(json.dumps({**answer, "app_hash_matches_header": computed.hex() == header_hash}))
        return
    console.print(f"checkpoint of {c['chain_id']} at height {c['height']}: log size {c['log_size']}, "
                  f"log root {c['log_root']}, state root {c['state_root']}")
    if computed.hex() == header_hash:
        console.print(f"  [green]its app hash {computed.hex()[:16]}… is in the header of height "
                      f"{answer['signed_header']['header']['height']}[/green], signed by "
                      f"{len(answer['signed_header']['commit']['signatures'])} validators")
    else:
        console.print("[red]the checkpoint does not hash to the header's app hash[/red]")
        raise typer.Exit(EXIT_PROBLEM)


@query_app.command("document")
def query_document(document: str = typer.Argument(..., help="A file, or its SHA-256 digest in hex."),
                   net: Path = NetOption, node: str = NodeOption,
                   as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Look a notarized document up by file or digest, and check its inclusion proof.

    Example: civichain query document deed.pdf
    """
    import hashlib

    path = Path(document)
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else document
    answer = _api(net, node).document(digest)
    _check_inclusion(answer["anchoring_tx"])
    if as_json:
        console.print_json(json.dumps(answer))
        return
    d = answer["document"]
    state = "[red]revoked[/red]" if d["revoked_at"] is not None else "[green]in force[/green]"
    console.print(f"{d['title']}: {state}; issued by {d['issuer']} ({d['organisation']}) at height {d['height']}")
    console.print(f"  digest {d['digest']}; anchoring tx {d['tx_id']}: [green]inclusion proof verified[/green]")


def _check_inclusion(answer: dict) -> None:
    from civichain.log import SHA256_TREE, ProofError, verify_inclusion

    inclusion = answer.get("inclusion")
    if inclusion is None:
        return
    try:
        verify_inclusion(SHA256_TREE.leaf(bytes.fromhex(answer["tx_bytes"])), inclusion["log_index"],
                         inclusion["log_size"], [bytes.fromhex(h) for h in inclusion["proof"]],
                         bytes.fromhex(inclusion["log_root"]))
    except ProofError as exc:
        console.print(f"[red]the inclusion proof does not verify[/red]: {exc}")
        raise typer.Exit(EXIT_PROBLEM)


@node_app.command("app")
def node_app_cmd(home: Path = typer.Option(..., help="Node folder.")) -> None:
    """Run the node's app process (the ledger behind CometBFT's ABCI connection)."""
    from civichain.node.app_process import run_app
    from civichain.node.config import load_node_config
    from civichain.node.logging import configure_logging

    configure_logging()
    run_app(home, load_node_config(home))


@node_app.command("api")
def node_api_cmd(home: Path = typer.Option(..., help="Node folder.")) -> None:
    """Run the node's HTTP API process."""
    from civichain.api.server import run_api
    from civichain.node.config import load_node_config
    from civichain.node.logging import configure_logging

    configure_logging()
    run_api(home, load_node_config(home))


@node_app.command("start")
def node_start(home: Path = typer.Option(..., help="Node folder.")) -> None:
    """Run all of one node's processes (app, CometBFT, API) until Ctrl-C."""
    from civichain.node.supervisor import NodeProcesses

    node = NodeProcesses.of(home)
    try:
        node.start()
        console.print(f"{node.config.node.name} running: API {node.config.api_url}, RPC {node.config.rpc_url}")
        while all(node.running(r) for r in ("app", "cometbft", "api")):
            time.sleep(1)
        console.print("[red]a process stopped; see the logs folder[/red]")
        raise typer.Exit(EXIT_RUNTIME)
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()


@bench_app.command("ledger")
def bench_ledger(
    txs: int = typer.Option(30_000, help="Transactions to commit."),
    accounts: int = typer.Option(100, help="Bench accounts sending them."),
    timeout_commit: str = typer.Option("300ms", help="CometBFT timeout_commit."),
    verify: bool = typer.Option(True, help="Then export the chain and time `civichain verify` on it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Committed tx/s of one validator (full checks, durable commits), then `civichain verify`'s speed on its chain.

    Example: civichain bench ledger --txs 30000
    Memory soak: civichain bench ledger --txs 1000000 --no-verify (prints node0's app memory along the run)
    """
    from civichain.bench.network import run_bench

    result = run_bench(validators=1, total=txs, rate=None, accounts_per_node=accounts, timeout_commit=timeout_commit,
                       report=lambda line: err.print(line), verify=verify)
    _print_figures("bench ledger (1 validator)", result, as_json)


@bench_app.command("network")
def bench_network(
    validators: int = typer.Option(4, help="Validators (each an app and a CometBFT process)."),
    rate: float = typer.Option(1500, help="Offered load, tx/s (0: as fast as accepted)."),
    duration: float = typer.Option(60, help="Seconds of load."),
    accounts: int = typer.Option(50, help="Bench accounts per node."),
    timeout_commit: str = typer.Option("300ms", help="CometBFT timeout_commit."),
    kvstore: bool = typer.Option(True, help="Also measure CometBFT's built-in kvstore on the same load."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Committed tx/s and commit latency (p50, p99) of a local network, and its ratio to the ceiling of
    CometBFT's built-in kvstore on the same configuration and load.

    Example: civichain bench network --rate 1500 --duration 60
    """
    from civichain.bench.network import run_bench, run_kvstore_bench

    total = int((rate or 2000) * duration)
    result = run_bench(validators=validators, total=total, rate=rate or None, accounts_per_node=accounts,
                       timeout_commit=timeout_commit, report=lambda line: err.print(line))
    figures = {"civichain": result}
    if kvstore:
        # The engine's ceiling: the same number and size of transactions, offered as fast as accepted.
        ceiling = run_kvstore_bench(validators=validators, total=total, rate=None,
                                    timeout_commit=timeout_commit, report=lambda line: err.print(line))
        figures["kvstore"] = ceiling
        figures["ratio_to_kvstore"] = round(result["tx_per_s"] / ceiling["tx_per_s"], 3) if ceiling["tx_per_s"] else None
    _print_figures(f"bench network ({validators} validators)", figures, as_json)


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
