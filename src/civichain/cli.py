"""The `civichain` command: set up, run, use and audit a civichain network.

Exit codes: 0 all well; 1 a check found a problem; 2 bad usage or config; 3 runtime failure.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional, Sequence

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
gov_app = typer.Typer(help="Governance: propose changes to the network, vote on them, follow them.",
                      no_args_is_help=True)
app.add_typer(gov_app, name="gov")
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
    organisations: Optional[int] = typer.Option(None, help="Departments in the genesis (default: one per "
                                                "validator); the first ones run the validators."),
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
                           timeout_commit=timeout_commit, organisations=organisations)
    console.print(f"Network [bold]{network.chain_id}[/bold] written to {out}/ with {len(network.nodes)} validators:")
    for node in network.nodes:
        console.print(f"  {node.name}  {node.organisation:16}  API {node.api_url}  RPC {node.rpc_url}")
    console.print(f"Start it with: civichain up {out}")


@app.command()
def up(
    net: Path = typer.Argument(Path("net"), help="Network folder made by `civichain init`."),
    seed: bool = typer.Option(False, "--seed", help="Load the demo data set once the network runs (a network "
                              "without the demo's departments gets a few sample records instead)."),
    duration: float = typer.Option(0, help="Stop after this many seconds (0: run until Ctrl-C)."),
) -> None:
    """Start every node of a network folder and show their status live; Ctrl-C stops them.

    Example: civichain up net --seed
    """
    from civichain.node.network import load_network
    from civichain.node.supervisor import NodeProcesses
    from rich.console import Group

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
            from civichain.demo.seed import DEPARTMENTS_NEEDED, seed_demo

            genesis = json.loads((network.root / "genesis.json").read_text(encoding="utf-8"))
            present = {o["id"] for o in genesis["app_state"]["organisations"]}
            if DEPARTMENTS_NEEDED <= present:
                console.print("Loading the demo data set (civichain demo seed)…")
                figures = seed_demo(network, report=lambda line: console.print(line))
                console.print(f"Demo records: {figures['ok']} of {figures['transactions']} transactions committed "
                              f"in {figures['seconds']} s.")
            else:
                from civichain.client.sample import seed_sample_records
                count = seed_sample_records(network)
                console.print(f"Submitted {count} sample records (the demo data set needs the departments "
                              f"{', '.join(sorted(DEPARTMENTS_NEEDED - present))}: civichain init --organisations 10).")
        started = time.monotonic()
        with Live(Group(*network_status_table(network)), console=console, refresh_per_second=1) as live:
            while not stop["now"] and (duration <= 0 or time.monotonic() - started < duration):
                time.sleep(1)
                live.update(Group(*network_status_table(network)))
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
    """Show each node's height, app hash, peers and problems (an app hash that differs, a halted CometBFT,
    evidence against it), and the validators with their organisations, voting power, liveness and evidence.

    Example: civichain status net
    """
    from civichain.node.network import load_network
    from civichain.node.status import collect_status, collect_validators, network_status_table

    network = load_network(net)
    if as_json:
        rows = collect_status(network)
        console.print_json(json.dumps({"nodes": rows, "validators": collect_validators(network, rows)}))
    else:
        for table in network_status_table(network):
            console.print(table)


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


@app.command()
def replay(
    home: Path = typer.Argument(..., help="Folder of a node (running or stopped)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Determinism check: re-execute the node's whole chain from genesis in a fresh app and compare every
    app hash, log root, state root and receipt with what the node computed. Exit 0 when all are equal, 1
    naming the first height and field that differs.

    Example: civichain replay net/node0
    """
    from rich.progress import Progress

    from civichain.audit import AuditError
    from civichain.audit.determinism import replay_store
    from civichain.node.config import load_node_config

    config = load_node_config(home)
    try:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("Replaying", total=None)
            report = replay_store(config.resolve(home, config.storage.path),
                                  progress=lambda h, total: bar.update(task, completed=h, total=total))
    except AuditError as exc:
        if as_json:
            console.print_json(json.dumps({"ok": False, **exc.facts()}))
        else:
            console.print("[red]DIFFERS[/red] " + escape(f"{exc.code}: {exc.where}: found {exc.got}, expected {exc.expected}"))
        raise typer.Exit(EXIT_PROBLEM)
    figures = {"ok": True, "chain_id": report.chain_id, "heights": report.heights,
               "transactions": report.transactions, "seconds": round(report.seconds, 2),
               "tx_per_s": round(report.tx_per_second(), 1)}
    if as_json:
        console.print_json(json.dumps(figures))
    else:
        console.print(f"[green]DETERMINISTIC[/green] chain {report.chain_id}: {report.heights} blocks and "
                      f"{report.transactions} transactions re-executed from genesis; every app hash, log root, "
                      f"state root and receipt equal ({report.seconds:.1f} s, {report.tx_per_second():.0f} tx/s).")


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


def _send(net: Path, node: str, account: str, key: Optional[Path], module: str, action: str, args,
          endorsers: Sequence[str] = ()) -> dict:
    """Sign a transaction with `account`'s key and each endorser's (`ACCOUNT` or `ACCOUNT=KEYFILE`), submit it
    and wait for its commit; return the API's answer."""
    from civichain.client.tx import build_body, sign

    api = _api(net, node)
    signer = _signer(net, account, key)
    endorsing = []
    for item in endorsers:
        endorser, _, path = item.partition("=")
        endorsing.append(_signer(net, endorser, Path(path) if path else None))
    nonce = api.account(account)["next_nonce"]
    status = api.status()
    body = build_body(status["chain_id"], account, nonce, status["height"] + 1000, module, action, args)
    return api.submit(sign(body, signer, endorsing), wait=True)


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


@gov_app.command("kinds")
def gov_kinds(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the kinds of proposal and the payload fields each takes (set them with --set NAME=VALUE).

    Example: civichain gov kinds
    """
    import msgspec

    from civichain.modules.governance import KINDS

    kinds = {name: {f.name: _field_type(f.type) for f in msgspec.inspect.type_info(kind.schema).fields}
             for name, kind in KINDS.items()}
    if as_json:
        console.print_json(json.dumps(kinds))
        return
    for name, fields in kinds.items():
        console.print(f"[bold]{name}[/bold]: " + ", ".join(f"{field} ({kind})" for field, kind in fields.items()))


@gov_app.command("propose")
def gov_propose(
    kind: str = typer.Argument(..., help="Kind of change (see `civichain gov kinds`), e.g. add_validator."),
    title: str = typer.Option(..., help="What the proposal does, for the other organisations."),
    values: list[str] = typer.Option([], "--set", help="A payload field as NAME=VALUE (bytes in hex); repeatable."),
    expires_at: int = typer.Option(0, help="Last height for votes (0: now + the proposal lifetime)."),
    execute_at: int = typer.Option(0, help="Height at whose end it executes once passed (0: as soon as it passes)."),
    account: str = typer.Option(..., help="Signing account: an admin of an active organisation."),
    key: Optional[Path] = typer.Option(None, help="Key file (default: NET/keys/<account>.key)."),
    net: Path = NetOption, node: str = NodeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Propose a change to the network; the proposing organisation's approval is counted at once.

    Examples:

      civichain gov propose add_validator --title "Tax bureau validator" --account land-bureau/admin
        --set pub_key=3f2a… --set power=10 --set organisation=tax-bureau --set node_id=9ae5…

      civichain gov propose admit_observer --title "University audit node" --account land-bureau/admin
        --set node_id=605d… --set operator="Peking University"

      civichain gov propose change_param --title "Three quarters" --account land-bureau/admin
        --set name=governance_threshold --set value=3/4
    """
    import msgspec

    from civichain.codec import encode
    from civichain.modules.governance import KINDS, Propose

    if kind not in KINDS:
        err.print(f"[red]error[/red] governance.unknown_kind: {kind!r}, expected one of {sorted(KINDS)}")
        raise typer.Exit(EXIT_USAGE)
    payload = _payload(KINDS[kind].schema, values)
    args = Propose(execute_at=execute_at, expires_at=expires_at, kind=kind, payload=msgspec.Raw(encode(payload)),
                   title=title)
    answer = _send(net, node, account, key, "governance", "propose", args)
    if not as_json and answer.get("status") == "committed":
        for event in answer["receipt"]["events"]:
            if event["type"] in ("proposed", "passed", "rejected"):
                console.print(f"proposal {event['key']}: {event['type']}")
    _report_submission(answer, as_json)


@gov_app.command("vote")
def gov_vote(
    proposal: int = typer.Argument(..., help="Proposal id."),
    approve: bool = typer.Option(..., "--approve/--reject", help="Approve or reject (votes are final)."),
    account: str = typer.Option(..., help="Signing account: an admin of an organisation of the electorate."),
    key: Optional[Path] = typer.Option(None, help="Key file (default: NET/keys/<account>.key)."),
    net: Path = NetOption, node: str = NodeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Cast your organisation's vote on an open proposal, once.

    Example: civichain gov vote 7 --approve --account finance-bureau/admin
    """
    from civichain.modules.governance import Vote

    answer = _send(net, node, account, key, "governance", "vote", Vote(approve=approve, proposal=proposal))
    if not as_json and answer.get("status") == "committed":
        for event in answer["receipt"]["events"]:
            if event["type"] in ("passed", "rejected"):
                console.print(f"proposal {event['key']}: {event['type']}")
    _report_submission(answer, as_json)


@gov_app.command("list")
def gov_list(
    status: Optional[str] = typer.Option(None, help="Only proposals in this status (open, passed, executed, ...)."),
    net: Path = NetOption, node: str = NodeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the governance proposals, oldest first, checking each one's state proof.

    Example: civichain gov list --status open
    """
    from civichain.client.proofs import check_state_answer

    proposals = _api(net, node).all_proposals()
    for answer in proposals:
        check_state_answer(answer["state"]["key"].encode(), answer["state"])
    shown = [a["proposal"] for a in proposals if status is None or a["proposal"]["status"] == status]
    if as_json:
        console.print_json(json.dumps(shown))
        return
    if not shown:
        console.print("no proposals")
    for p in shown:
        when = (f"executes at {p['executes_at']}" if p["executes_at"] else
                f"expires at {p['expires_at']}" if p["status"] == "open" else f"since {p['decided_at']}")
        console.print(f"#{p['id']} {p['kind']:22} {p['status']:9} {p['approvals']}/{len(p['electorate'])} approve, "
                      f"{when}: " + escape(p["title"]))
    console.print(f"[green]{len(proposals)} state proofs verified[/green]")


@gov_app.command("show")
def gov_show(proposal: int = typer.Argument(..., help="Proposal id."), net: Path = NetOption, node: str = NodeOption,
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show a proposal: payload, ballots and status, and check its state proof.

    Example: civichain gov show 7
    """
    from civichain.client.proofs import check_state_answer

    answer = _api(net, node).proposal(proposal)
    check_state_answer(answer["state"]["key"].encode(), answer["state"])
    if as_json:
        console.print_json(json.dumps(answer))
        return
    p = answer["proposal"]
    console.print(f"proposal #{p['id']} ({p['kind']}): {p['status']}; " + escape(p["title"]))
    console.print(f"  proposed by {p['proposer']} at height {p['created_at']}; expires at {p['expires_at']}; "
                  f"threshold {p['threshold_numerator']}/{p['threshold_denominator']} of {list(p['electorate'])}")
    console.print("  payload " + escape(json.dumps(p["payload"], ensure_ascii=False)))
    for b in p["ballots"]:
        console.print(f"  {b['organisation']}: {'approve' if b['approve'] else 'reject'} by {b['account']} "
                      f"at height {b['height']}")
    if p["outcome"]:
        console.print(f"  executed at height {p['executed_at']}: {p['outcome']}")
    console.print(f"  [green]state proof verified[/green] against state root {answer['state']['state_root'][:16]}… "
                  f"(height {answer['state']['height']})")


def _payload(schema, values: list[str]):
    """Build a proposal payload from --set NAME=VALUE pairs, by the payload's field types."""
    import msgspec

    fields = {f.name: f.type for f in msgspec.inspect.type_info(schema).fields}
    raw: dict[str, object] = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or name not in fields:
            err.print(f"[red]error[/red] cli.bad_payload: --set {item!r}, expected NAME=VALUE with NAME one of "
                      f"{sorted(fields)}")
            raise typer.Exit(EXIT_USAGE)
        raw[name] = _convert(fields[name], text, name)
    try:
        return msgspec.convert(raw, schema)
    except msgspec.ValidationError as exc:
        err.print(f"[red]error[/red] governance.bad_payload: {exc}")
        raise typer.Exit(EXIT_USAGE)


def _convert(kind, text: str, name: str) -> object:
    import base64
    import binascii

    import msgspec

    if isinstance(kind, msgspec.inspect.IntType):
        if not text.lstrip("-").isdigit():
            err.print(f"[red]error[/red] cli.bad_payload: --set {name}={text!r}, expected a whole number")
            raise typer.Exit(EXIT_USAGE)
        return int(text)
    if isinstance(kind, msgspec.inspect.BytesType):
        try:
            return bytes.fromhex(text)
        except ValueError:
            try:   # CometBFT's key files show keys in base64
                return base64.b64decode(text, validate=True)
            except binascii.Error:
                err.print(f"[red]error[/red] cli.bad_payload: --set {name}={text!r}, expected hex (or base64) bytes")
                raise typer.Exit(EXIT_USAGE)
    return text


def _field_type(kind) -> str:
    import msgspec

    return {msgspec.inspect.IntType: "number", msgspec.inspect.BytesType: "hex bytes"}.get(type(kind), "text")


@node_app.command("app")
def node_app_cmd(home: Path = typer.Option(..., help="Node folder.")) -> None:
    """Run the node's app process (the ledger behind CometBFT's ABCI connection)."""
    from civichain.node.app_process import run_app
    from civichain.node.config import load_node_config
    from civichain.node.logging import configure_logging

    configure_logging()
    faulthandler.enable()   # a crash in C code leaves the Python stacks in the log
    run_app(home, load_node_config(home))


@node_app.command("api")
def node_api_cmd(home: Path = typer.Option(..., help="Node folder.")) -> None:
    """Run the node's HTTP API process."""
    from civichain.api.server import run_api
    from civichain.node.config import load_node_config
    from civichain.node.logging import configure_logging

    configure_logging()
    faulthandler.enable()   # a crash in C code leaves the Python stacks in the log
    run_api(home, load_node_config(home))


@node_app.command("add")
def node_add(
    operator: str = typer.Option(..., help="Who runs it: an organisation id, or an observer's name."),
    net: Path = NetOption,
    host: str = typer.Option("127.0.0.1", help="Host address of the new node."),
    base_port: Optional[int] = typer.Option(None, help="First of its ten ports (default: free ones)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add a node folder to a network: a future validator or an observer. Its peers refuse it until governance
    admits its node id (add_validator with the validator key printed here, or admit_observer).

    Example: civichain node add --operator tax-bureau --net net
    """
    from civichain.engine import find_cometbft
    from civichain.node.network import add_node

    entry, keys = add_node(net, binary=find_cometbft(os.environ.get("CIVICHAIN_COMETBFT")), operator=operator,
                           host=host, base_port=base_port)
    if as_json:
        console.print_json(json.dumps({"name": entry.name, "home": str(entry.home), "api_url": entry.api_url,
                                       "rpc_url": entry.rpc_url, "node_id": keys.node_id,
                                       "validator_key": keys.validator_key_bytes.hex()}))
        return
    console.print(f"{entry.name} written to {entry.home} (API {entry.api_url}, RPC {entry.rpc_url})")
    console.print(f"  node id        {keys.node_id}")
    console.print(f"  validator key  {keys.validator_key_bytes.hex()}")
    console.print("Admit it with: civichain gov propose admit_observer (or add_validator) --set node_id=… ; "
                  f"then start it with: civichain node start --home {entry.home}")


@app.command()
def join(
    source: str = typer.Option(..., "--from", help="The HTTP API of a node of the network (or a folder with "
                               "genesis.json and peers.txt)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to create the node in."),
    name: str = typer.Option(..., help="Who runs it, e.g. 'city-gazette' (shown to the network)."),
    host: str = typer.Option("127.0.0.1", help="Address it listens for peers on."),
    base_port: Optional[int] = typer.Option(None, help="First of its ten ports (default: free ones)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create an observer node: it follows the chain without voting, checks every commit and re-executes every
    block, and serves the same read API. The network admits it once governance passes `admit_observer` with
    the node id printed here; then start it with `civichain node start --home OUT`.

    Example: civichain join --from http://10.0.1.5:26603 --out observer --name city-gazette
    """
    import httpx

    from civichain.engine import find_cometbft
    from civichain.node.config import ConfigError
    from civichain.node.network import join_node

    if source.startswith(("http://", "https://")):
        try:
            answer = httpx.get(f"{source.rstrip('/')}/v1/network", timeout=15).json()
            genesis_text, peers = json.dumps(answer["genesis"], indent=2, ensure_ascii=False), answer["peers"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ConfigError("config.unreachable", where=f"--from {source}", got=str(exc)[:200],
                              expected="the HTTP API of a running civichain node") from None
    else:
        folder = Path(source)
        try:
            genesis_text = (folder / "genesis.json").read_text(encoding="utf-8")
            peers = [line.strip() for line in (folder / "peers.txt").read_text().splitlines() if line.strip()]
        except OSError as exc:
            raise ConfigError("config.missing", where=f"--from {source}", got=exc.strerror,
                              expected="a folder with genesis.json and peers.txt (one id@host:port per line)") from None
    keys = join_node(out, binary=find_cometbft(os.environ.get("CIVICHAIN_COMETBFT")), name=name,
                     genesis_text=genesis_text, peers=peers, host=host, base_port=base_port)
    if as_json:
        console.print_json(json.dumps({"home": str(out), "node_id": keys.node_id, "peers": peers}))
        return
    console.print(f"Observer node written to {out}/ (peers: {len(peers)})")
    console.print(f"  node id  {keys.node_id}")
    console.print("Ask the network to admit it (two thirds of the organisations must approve):")
    console.print(f"  civichain gov propose admit_observer --set node_id={keys.node_id} --set operator={name} "
                  "--title \"Observer node\" --account <organisation>/admin")
    console.print(f"Then start it: civichain node start --home {out}")


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


demo_app = typer.Typer(help="The demo data set: realistic, reproducible public records.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


@demo_app.command("seed")
def demo_seed(
    net: Path = typer.Argument(Path("net"), help="Network folder of a running network."),
    seed: int = typer.Option(1, help="Seed of the data set (same seed, same records)."),
    scale: float = typer.Option(1.0, help="Size relative to the full set (1,000 parcels, 500 identities, ...)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fill a running network with a city's records, in Chinese and English: departments' officers and
    residents, parcels with titles, transfers, mortgages and a frozen parcel, identities, notarized documents,
    and a fiscal year of programmes and payments.

    Example: civichain demo seed net
    """
    from civichain.demo.seed import seed_demo
    from civichain.node.network import load_network

    figures = seed_demo(load_network(net), seed=seed, scale=scale, report=lambda line: err.print(line))
    if as_json:
        console.print_json(json.dumps(figures))
        return
    console.print(f"Seeded {figures['ok']} of {figures['transactions']} transactions in {figures['seconds']} s.")


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
    keys: int = typer.Option(1_000_000, help="State keys to build (module-like keys, ~120-byte values); 0 skips it."),
    validators: int = typer.Option(4, help="Validators of the network the demo data set is seeded on; 0 skips it."),
    batch: int = typer.Option(5_000, help="Keys written per block when building the state."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The modules at scale: (1) seeds the full demo data set (land, funds, identity, notary) on a fresh local
    network and prints how long it took and how long the largest blocks took to execute and commit on a
    validator; (2) builds a state of KEYS keys in SQLite block by block and prints the proof size (mean, max),
    proof verifications per second, and disk per key.

    Example: civichain bench modules --keys 1000000 --validators 4
    """
    figures: dict = {}
    if validators:
        from civichain.demo.bench import run_seed_bench

        with _stopped_by_sigterm():
            figures["demo_seed"] = run_seed_bench(validators=validators, report=lambda line: err.print(line))
    if keys:
        from civichain.bench.modules import run_state_bench

        figures["state"] = run_state_bench(keys=keys, batch=batch, report=lambda line: err.print(line))
    _print_figures("bench modules", figures, as_json)


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


# --- identity ---
identity_app = typer.Typer(help="Identity: DIDs (did:civic:...), credential issuers, schemas and revocation status "
                           "lists. Answers are checked against their state proofs.", no_args_is_help=True)
app.add_typer(identity_app, name="identity")
registry_app = typer.Typer(help="Accounts: rotate an account's key, read an account's history.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")
AccountOption = typer.Option(..., "--account", help="Signing account (it sends the transaction).")
KeyOption = typer.Option(None, "--key", help="Key file of the signing account (default: NET/keys/<account>.key).")
SigningKeyOption = typer.Option(..., "--signing-key", help="Key file of the DID key that signs the change.")
SignerOption = typer.Option(None, "--signer", help="DID URL of that key (default: DID#key-1), e.g. a controller's key.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")


def _identity_api(net: Path, node: str):
    from civichain.client.identity import IdentityClient

    return IdentityClient(_api(net, node).base_url)


def _key_file(net: Path, path: Path) -> bytes:
    """Return the private key sealed in a key file (passphrase from CIVICHAIN_PASSPHRASE, the network, or asked)."""
    return _signer(net, "", path).private_key


def _checked(answer: dict, *states: str) -> dict:
    """Verify the state proofs of `answer` (its objects named `states`); exit 1 when one does not verify."""
    from civichain.client.proofs import check_state_answer
    from civichain.state import StateProofError

    for name in states:
        try:
            check_state_answer(answer[name]["key"].encode(), answer[name])
        except StateProofError as exc:
            console.print(f"[red]the state proof of {name} does not verify[/red]: " + escape(str(exc)))
            raise typer.Exit(EXIT_PROBLEM)
    return answer


def _service(text: str):
    from civichain.modules.did import Service

    service_id, sep, rest = text.partition("=")
    kind, sep2, endpoint = rest.partition("=")
    if not (sep and sep2):
        err.print(f"[red]error[/red] cli.bad_service: --service {text!r}, expected ID=TYPE=ENDPOINT")
        raise typer.Exit(EXIT_USAGE)
    return Service(endpoint=endpoint, id=service_id, type=kind)


def _change_did(net: Path, node: str, account: str, key: Optional[Path], action: str, did: str, signing_key: Path,
                signer: Optional[str], new_key: Optional[Path] = None, **fields) -> dict:
    """Sign a change of `did` at its current version with the DID key in `signing_key` and submit it."""
    from civichain.crypto import ED25519_SHA256
    from civichain.modules.did import sign_operation
    from civichain.modules.identity import MODULE

    api = _identity_api(net, node)
    schema = MODULE.actions[action].schema
    version = api.did(did)["document"]["version"]
    new_private = _key_file(net, new_key) if new_key else None
    if new_private is not None:
        fields["public_key"] = ED25519_SHA256.public_key(new_private)
    proofs = {f: b"" for f in ("key_proof", "proof") if f in schema.__struct_fields__}
    # Checked against the action's schema by the node's admission (tx.bad_arguments names the field).
    args = schema(did=did, signer=signer or f"{did}#key-1", version=version, **proofs, **fields)
    signed = sign_operation(api.status()["chain_id"], action, args, _key_file(net, signing_key), new_private)
    return _send(net, node, account, key, "identity", action, signed)


@identity_app.command("create")
def identity_create(
    subject_key: Path = typer.Option(..., "--subject-key", help="Key file of the new DID's first key (its holder's)."),
    controllers: list[str] = typer.Option([], "--controller", help="Another DID that may change it; repeatable."),
    services: list[str] = typer.Option([], "--service", help="A service as ID=TYPE=ENDPOINT; repeatable."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Create the DID of a new key (an admin or identity_officer sends it; the key signs the request).

    Example: civichain keys new alice --out alice.key;
    civichain identity create --subject-key alice.key --account civil-affairs/admin
    """
    from civichain.crypto import ED25519_SHA256
    from civichain.modules.did import did_of, sign_operation
    from civichain.modules.identity import CreateDid

    private = _key_file(net, subject_key)
    public = ED25519_SHA256.public_key(private)
    args = CreateDid(controllers=tuple(sorted(controllers)), proof=b"", public_key=public,
                     services=tuple(_service(s) for s in services))
    signed = sign_operation(_api(net, node).status()["chain_id"], "create_did", args, private)
    answer = _send(net, node, account, key, "identity", "create_did", signed)
    if not as_json:
        console.print(f"DID {did_of(public)} (key-1 = {public.hex()})")
    _report_submission(answer, as_json)


@identity_app.command("resolve")
def identity_resolve(did: str = typer.Argument(..., help="The DID, did:civic:<32 hex digits>."),
                     height: Optional[int] = typer.Option(None, help="A retained height (default: the latest)."),
                     net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """Resolve a DID at a height and check its state proof; prints its keys and services.

    Example: civichain identity resolve did:civic:4f0c… --height 120
    """
    answer = _checked(_identity_api(net, node).did(did, height), "state")
    if as_json:
        console.print_json(json.dumps(answer))
        return
    d, meta = answer["document"], answer["did_document_metadata"]
    status = "[red]deactivated[/red]" if meta["deactivated"] else "[green]active[/green]"
    console.print(f"{did} at height {answer['height']}: {status}, version {d['version']}, registered by "
                  f"{d['registered_by']} at {d['created_at']}, last changed at {d['updated_at']}")
    for k in d["keys"]:
        console.print(f"  key {k['id']}: {k['public_key']} ({', '.join(k['purposes'])}) since {k['since']}")
    for s in d["services"]:
        console.print(f"  service {s['id']}: {s['type']} " + escape(s["endpoint"]))
    if d["controllers"]:
        console.print(f"  controllers: {', '.join(d['controllers'])}")
    console.print(f"  [green]state proof verified[/green] against state root {answer['state']['state_root'][:16]}…")


@identity_app.command("history")
def identity_history(did: str = typer.Argument(..., help="The DID."), net: Path = NetOption, node: str = NodeOption,
                     as_json: bool = JsonOption) -> None:
    """List every change of a DID, oldest first.

    Example: civichain identity history did:civic:4f0c…
    """
    api = _identity_api(net, node)
    _print_history(api.all_pages(lambda c: api.did_history(did, c), "events"), as_json)


def _print_history(events: list[dict], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(events))
        return
    if not events:
        console.print("no changes recorded")
    for e in events:
        facts = ", ".join(f"{k}={v}" for k, v in e["attributes"].items())
        console.print(f"height {e['height']}: {e['type']} " + escape(facts))


@identity_app.command("add-key")
def identity_add_key(
    did: str = typer.Argument(..., help="The DID."), key_id: str = typer.Option(..., help="Id of the new key."),
    new_key: Path = typer.Option(..., "--new-key", help="Key file of the new key (it signs the change too)."),
    purposes: list[str] = typer.Option(["authentication"], "--purpose",
                                       help="authentication, assertion_method or capability_invocation; repeatable."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a key to a DID.

    Example: civichain identity add-key did:civic:4f0c… --key-id phone --new-key phone.key --purpose authentication
    --signing-key alice.key --account civil-affairs/admin
    """
    answer = _change_did(net, node, account, key, "add_key", did, signing_key, signer, new_key, key_id=key_id,
                         purposes=tuple(sorted(set(purposes))))
    _report_submission(answer, as_json)


@identity_app.command("rotate-key")
def identity_rotate_key(
    did: str = typer.Argument(..., help="The DID."), key_id: str = typer.Option("key-1", help="Id of the key to rotate."),
    new_key: Path = typer.Option(..., "--new-key", help="Key file of the new key (it signs the change too)."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Replace a DID key with a new one; the old one is retired for good.

    Example: civichain identity rotate-key did:civic:4f0c… --new-key alice-2027.key --signing-key alice.key
    --account civil-affairs/admin
    """
    answer = _change_did(net, node, account, key, "rotate_key", did, signing_key, signer, new_key, key_id=key_id)
    _report_submission(answer, as_json)


@identity_app.command("remove-key")
def identity_remove_key(
    did: str = typer.Argument(..., help="The DID."), key_id: str = typer.Option(..., help="Id of the key to remove."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Remove a key from a DID (one capability_invocation key must remain).

    Example: civichain identity remove-key did:civic:4f0c… --key-id phone --signing-key alice.key --account civil-affairs/admin
    """
    _report_submission(_change_did(net, node, account, key, "remove_key", did, signing_key, signer, key_id=key_id),
                       as_json)


@identity_app.command("add-service")
def identity_add_service(
    did: str = typer.Argument(..., help="The DID."),
    service: str = typer.Option(..., "--service", help="The service as ID=TYPE=ENDPOINT."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a service endpoint to a DID.

    Example: civichain identity add-service did:civic:4f0c… --service inbox=CredentialInbox=https://wallet.example/in
    --signing-key alice.key --account civil-affairs/admin
    """
    answer = _change_did(net, node, account, key, "add_service", did, signing_key, signer, service=_service(service))
    _report_submission(answer, as_json)


@identity_app.command("remove-service")
def identity_remove_service(
    did: str = typer.Argument(..., help="The DID."), service_id: str = typer.Option(..., help="Id of the service."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Remove a service endpoint from a DID.

    Example: civichain identity remove-service did:civic:4f0c… --service-id inbox --signing-key alice.key
    --account civil-affairs/admin
    """
    answer = _change_did(net, node, account, key, "remove_service", did, signing_key, signer, service_id=service_id)
    _report_submission(answer, as_json)


@identity_app.command("deactivate")
def identity_deactivate(
    did: str = typer.Argument(..., help="The DID."),
    signing_key: Path = SigningKeyOption, signer: Optional[str] = SignerOption,
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Deactivate a DID for good: its keys are retired, nothing can change it again.

    Example: civichain identity deactivate did:civic:4f0c… --signing-key alice.key --account civil-affairs/admin
    """
    _report_submission(_change_did(net, node, account, key, "deactivate_did", did, signing_key, signer), as_json)


@identity_app.command("register-issuer")
def identity_register_issuer(
    organisation: str = typer.Argument(..., help="The organisation that will issue."),
    credential_type: str = typer.Argument(..., help="The credential type, e.g. marriage_certificate."),
    did: str = typer.Option(..., help="The organisation's DID whose assertion keys sign its credentials."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Allow an organisation to issue a credential type (civil affairs admins only).

    Example: civichain identity register-issuer land-bureau land_certificate --did did:civic:9a1e…
    --account civil-affairs/admin
    """
    from civichain.modules.credentials import RegisterIssuer

    args = RegisterIssuer(credential_type=credential_type, did=did, organisation=organisation)
    _report_submission(_send(net, node, account, key, "identity", "register_issuer", args), as_json)


@identity_app.command("withdraw-issuer")
def identity_withdraw_issuer(
    organisation: str = typer.Argument(..., help="The issuing organisation."),
    credential_type: str = typer.Argument(..., help="The credential type."),
    reason: str = typer.Option(..., help="Why (public)."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Withdraw an issuer registration (civil affairs admins only); it may still revoke, never unrevoke.

    Example: civichain identity withdraw-issuer land-bureau land_certificate --reason "merged" --account civil-affairs/admin
    """
    from civichain.modules.credentials import WithdrawIssuer

    args = WithdrawIssuer(credential_type=credential_type, organisation=organisation, reason=reason)
    _report_submission(_send(net, node, account, key, "identity", "withdraw_issuer", args), as_json)


@identity_app.command("issuers")
def identity_issuers(net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """List the credential issuers, checking each registration's state proof.

    Example: civichain identity issuers
    """
    api = _identity_api(net, node)
    answers = [_checked(a, "state") for a in api.all_pages(api.issuers, "issuers")]
    if as_json:
        console.print_json(json.dumps(answers))
        return
    if not answers:
        console.print("no issuers")
    for a in answers:
        i = a["issuer"]
        state = f"withdrawn at {i['withdrawn_at']}" if i["withdrawn_at"] is not None else "registered"
        console.print(f"{i['organisation']} issues {i['credential_type']}, signed by {i['did']}: {state} "
                      f"(at {i['registered_at']} by {i['registered_by']})")
    console.print(f"[green]{len(answers)} state proofs verified[/green]")


@identity_app.command("register-schema")
def identity_register_schema(
    file: Path = typer.Argument(..., help="The schema file; only its SHA-256 digest goes on chain."),
    credential_type: str = typer.Option(..., "--type", help="The credential type it describes."),
    title: str = typer.Option(..., help="Its title."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Register a credential schema by its digest (an admin or issuer of an organisation issuing the type).

    Example: civichain identity register-schema land-certificate-v1.json --type land_certificate
    --title "Land certificate v1" --account land-bureau/admin
    """
    import hashlib

    from civichain.modules.credentials import RegisterSchema

    digest = hashlib.sha256(file.read_bytes()).digest()
    args = RegisterSchema(credential_type=credential_type, digest=digest, title=title)
    if not as_json:
        console.print(f"schema {file} digest {digest.hex()}")
    _report_submission(_send(net, node, account, key, "identity", "register_schema", args), as_json)


def _status_change(action: str, credential_type: str, indices: list[int], account: str, key: Optional[Path],
                   net: Path, node: str, as_json: bool) -> None:
    from civichain.modules.credentials import ChangeStatus

    args = ChangeStatus(credential_type=credential_type, indices=tuple(sorted(set(indices))))
    _report_submission(_send(net, node, account, key, "identity", action, args), as_json)


@identity_app.command("revoke")
def identity_revoke(
    credential_type: str = typer.Argument(..., help="The credential type."),
    indices: list[int] = typer.Argument(..., help="Status list indices of the credentials to revoke."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke credentials of your organisation: set their bits in its status list.

    Example: civichain identity revoke land_certificate 17 42 --account land-bureau/admin
    """
    _status_change("revoke", credential_type, indices, account, key, net, node, as_json)


@identity_app.command("unrevoke")
def identity_unrevoke(
    credential_type: str = typer.Argument(..., help="The credential type."),
    indices: list[int] = typer.Argument(..., help="Status list indices revoked in error."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Clear revocation bits set in error (not once the issuer is withdrawn).

    Example: civichain identity unrevoke land_certificate 42 --account land-bureau/admin
    """
    _status_change("unrevoke", credential_type, indices, account, key, net, node, as_json)


@identity_app.command("status")
def identity_status(
    organisation: str = typer.Argument(..., help="The issuing organisation."),
    credential_type: str = typer.Argument(..., help="The credential type."),
    index: Optional[int] = typer.Option(None, help="A credential's index: is it revoked?"),
    height: Optional[int] = typer.Option(None, help="A retained height (default: the latest)."),
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Read an issuer's status list and registration, checking both state proofs.

    Example: civichain identity status land-bureau land_certificate --index 42
    """
    answer = _checked(_identity_api(net, node).status_list(organisation, credential_type, height=height, index=index),
                      "state", "issuer_state")
    if as_json:
        console.print_json(json.dumps(answer))
        return
    listed = answer["status_list"]
    console.print(f"{organisation}/{credential_type} at height {answer['height']}: "
                  f"{listed['revoked'] if listed else 0} credentials revoked; issuer DID {answer['issuer']['did']}")
    if index is not None:
        console.print(f"  credential {index}: " + ("[red]revoked[/red]" if answer["revoked"] else "[green]in force[/green]"))
    console.print("  [green]state proofs verified[/green] (status list and issuer registration)")


@registry_app.command("rotate-key")
def registry_rotate_key(
    target: str = typer.Argument(..., help="The account whose key changes, e.g. land-bureau/alice."),
    public_key: str = typer.Option(..., help="Its new public key, hex (see `civichain keys new`)."),
    account: str = AccountOption, key: Optional[Path] = KeyOption, net: Path = NetOption, node: str = NodeOption,
    as_json: bool = JsonOption,
) -> None:
    """Give an account a new key (the account itself, or an admin of its organisation, signs).

    Example: civichain keys new land-bureau/alice --out alice-2027.key;
    civichain registry rotate-key land-bureau/alice --public-key 7be1… --account land-bureau/alice
    """
    from civichain.modules.registry import RotateKey

    try:
        key_bytes = bytes.fromhex(public_key)
    except ValueError:
        err.print(f"[red]error[/red] cli.bad_public_key: --public-key is {public_key!r}, expected 64 hex digits")
        raise typer.Exit(EXIT_USAGE)
    answer = _send(net, node, account, key, "registry", "rotate_key", RotateKey(id=target, public_key=key_bytes))
    if not as_json and answer.get("status") == "committed":
        console.print(f"{target} now signs with {public_key}; sign its next transactions with the new key file")
    _report_submission(answer, as_json)


@registry_app.command("history")
def registry_history(target: str = typer.Argument(..., help="The account, organisation/name."), net: Path = NetOption,
                     node: str = NodeOption, as_json: bool = JsonOption) -> None:
    """List an account's changes: added, suspended, reinstated, key rotated.

    Example: civichain registry history land-bureau/alice
    """
    api = _identity_api(net, node)
    _print_history(api.all_pages(lambda c: api.account_history(target, c), "events"), as_json)

# --- identity ---
# --- land ---

land_app = typer.Typer(help="The land registry: parcels, titles and shares, encumbrances, court freezes, "
                            "subdivision and merger. Documents are given as files (only their SHA-256 goes on chain) "
                            "or as 64 hex digits.", no_args_is_help=True)
app.add_typer(land_app, name="land")
EndorseOption = typer.Option([], "--endorse", help="An account that signs the transaction too (an owner, a buyer, a "
                                                   "bureau), as ACCOUNT or ACCOUNT=KEYFILE; repeatable.")
LandAccountOption = typer.Option(..., "--account", help="The sending account (see `civichain land policies`).")
LandKeyOption = typer.Option(None, help="Key file of --account (default: NET/keys/<account>.key).")
JsonOption = typer.Option(False, "--json", help="Print JSON.")


def _land_send(net: Path, node: str, account: str, key: Optional[Path], action: str, args,
               endorse: list[str]) -> dict:
    """Sign a land transaction with the sender's key and each endorser's, submit it and wait for the commit."""
    return _send(net, node, account, key, "land", action, args, endorse)


def _land_report(answer: dict, as_json: bool) -> None:
    """Print the outcome and, when committed, what the registry recorded (its events)."""
    if not as_json and answer.get("status") == "committed":
        for event in answer["receipt"]["events"]:
            facts = ", ".join(f"{a['key']}={a['value']}" for a in event["attributes"] if a["key"] != "location")
            console.print(f"  {event['type']} {event['key']}: " + escape(facts))
    _report_submission(answer, as_json)


def _land_usage(option: str, got: str, expected: str) -> None:
    err.print("[red]error[/red] " + escape(f"cli.bad_option: {option} is {got!r}, expected {expected}"))
    raise typer.Exit(EXIT_USAGE)


def _document(text: str, option: str) -> bytes:
    """A file's SHA-256 digest, or 64 hex digits given as they are."""
    import hashlib

    path = Path(text)
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).digest()
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        _land_usage(option, text, "a file, or its SHA-256 digest as 64 hex digits")
    return digest


def _hundredths(text: str, option: str, unit: str) -> int:
    """'123.45' as the whole number 12345 (exact: no floating point)."""
    import re

    if not re.fullmatch(r"\d{1,16}(\.\d{1,2})?", text):
        _land_usage(option, text, f"a number of {unit} with at most two decimals, e.g. 123.45")
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0"))


def _owner_shares(values: list[str], option: str):
    """OwnerShares from ACCOUNT=N/D (ACCOUNT alone: the whole)."""
    import re

    from civichain.modules.land import OwnerShare

    shares = []
    for item in values:
        match = re.fullmatch(r"([^=]+?)(?:=(\d{1,10})(?:/(\d{1,10}))?)?", item)
        if match is None:
            _land_usage(option, item, "ACCOUNT=NUMERATOR/DENOMINATOR, e.g. residents/alice=1/2 (ACCOUNT alone: 1/1)")
        account, numerator, denominator = match.groups()
        shares.append(OwnerShare(denominator=int(denominator or 1), numerator=int(numerator or 1), owner=account))
    if not shares:
        _land_usage(option, "nothing", "at least one owner")
    return tuple(shares)


def _land_args(schema, **values):
    """Build an action's arguments, turning a value out of range into a usage error naming the field."""
    import msgspec

    try:
        return msgspec.convert(values, schema)
    except msgspec.ValidationError as exc:
        err.print("[red]error[/red] " + escape(f"tx.bad_arguments: {exc}"))
        raise typer.Exit(EXIT_USAGE)


@land_app.command("policies")
def land_policies(as_json: bool = JsonOption) -> None:
    """List the land actions and who may perform each: the policies exactly as execution checks them.

    Example: civichain land policies
    """
    from civichain.modules.land import MODULE

    rows = {name: {"summary": a.summary,
                   "performer": a.policy.performer.describe() if a.policy.performer else "anyone",
                   "endorsement": a.policy.endorsement.describe() if a.policy.endorsement else "nobody else",
                   "subjects": a.subjects.__doc__.split("\n")[0] if a.subjects else ""}
            for name, a in MODULE.actions.items()}
    if as_json:
        console.print_json(json.dumps(rows))
        return
    for name, row in rows.items():
        console.print(f"[bold]{name}[/bold]: {row['summary']}\n  sent by: {row['performer']}\n"
                      f"  signed by: {row['endorsement']}")
        if row["subjects"]:
            console.print(f"  the subjects: {row['subjects']}")


@land_app.command("register-parcel")
def land_register_parcel(
    parcel: str = typer.Argument(..., help="The new parcel's id, e.g. 110101-001-0042."),
    location: str = typer.Option(..., help="Where it is, in words (no personal data)."),
    area: str = typer.Option(..., help="Area in square metres, at most two decimals, e.g. 1234.56."),
    land_use: str = typer.Option(..., help="Land use: residential, commercial, cropland, … (docs/modules/land.md)."),
    survey: str = typer.Option(..., help="The survey file (its SHA-256 is the boundary), or its digest in hex."),
    account: str = LandAccountOption, key: Optional[Path] = LandKeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Register a surveyed parcel (a registrar of the land bureau).

    Example: civichain land register-parcel 110101-001-0042 --location "东城区 景山街道 1号" --area 1234.56
      --land-use residential --survey survey-0042.pdf --account land-bureau/registrar
    """
    from civichain.modules.land import RegisterParcel

    args = _land_args(RegisterParcel, area_dm2=_hundredths(area, "--area", "square metres"),
                      boundary=_document(survey, "--survey"), id=parcel, land_use=land_use, location=location)
    _land_report(_land_send(net, node, account, key, "register_parcel", args, []), as_json)


@land_app.command("issue-title")
def land_issue_title(
    parcel: str = typer.Argument(..., help="Parcel id."),
    owner: list[str] = typer.Option([], "--owner", help="An owner and share, ACCOUNT=N/D (ACCOUNT alone: the whole); "
                                                        "repeatable. Shares must sum to exactly 1."),
    deed: str = typer.Option(..., help="The document the ownership rests on (file or hex digest)."),
    account: str = LandAccountOption, key: Optional[Path] = LandKeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Issue a parcel's first title: its owners and their shares (a registrar of the land bureau).

    Example: civichain land issue-title 110101-001-0042 --owner residents/alice=1/2 --owner residents/bob=1/2
      --deed allocation.pdf --account land-bureau/registrar
    """
    from civichain.modules.land import IssueTitle

    args = _land_args(IssueTitle, deed=_document(deed, "--deed"), owners=_owner_shares(owner, "--owner"), parcel=parcel)
    _land_report(_land_send(net, node, account, key, "issue_title", args, []), as_json)


@land_app.command("transfer")
def land_transfer(
    parcel: str = typer.Argument(..., help="Parcel id."),
    to: list[str] = typer.Option([], "--to", help="A new owner and share, ACCOUNT=N/D; repeatable."),
    deed: str = typer.Option(..., help="The transfer contract (file or hex digest)."),
    title: Optional[int] = typer.Option(None, help="The current title number (default: read from the node)."),
    endorse: list[str] = EndorseOption,
    account: str = LandAccountOption, key: Optional[Path] = LandKeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Transfer a parcel under a new title. Every current owner and every new owner, a registrar of the land
    bureau and an account of the tax bureau (its clearance) must sign: the sender and the --endorse accounts.

    Example: civichain land transfer 110101-001-0042 --to residents/carol --deed contract.pdf
      --account land-bureau/registrar --endorse residents/alice --endorse residents/bob
      --endorse residents/carol --endorse tax-bureau/admin
    """
    from civichain.client.land import parcel as read_parcel
    from civichain.modules.land import Transfer

    if title is None:
        title = read_parcel(_api(net, node), parcel)["parcel"]["record"]["title"] or 1
    args = _land_args(Transfer, deed=_document(deed, "--deed"), owners=_owner_shares(to, "--to"), parcel=parcel,
                      title=title)
    _land_report(_land_send(net, node, account, key, "transfer", args, endorse), as_json)


@land_app.command("add-encumbrance")
def land_add_encumbrance(
    parcel: str = typer.Argument(..., help="Parcel id."),
    kind: str = typer.Option(..., help="mortgage, easement or lien."),
    holder: str = typer.Option(..., help="The account it favours: the lender, the neighbour, the creditor."),
    blocking: bool = typer.Option(..., "--blocking/--not-blocking", help="Whether it blocks transfers until released."),
    amount: str = typer.Option("0", help="The secured amount in yuan, at most two decimals (0: none)."),
    document: str = typer.Option(..., help="The contract or order (file or hex digest)."),
    endorse: list[str] = EndorseOption,
    account: str = LandAccountOption, key: Optional[Path] = LandKeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Register a mortgage, easement or lien (a registrar sends it; the holder signs, and for a mortgage or
    easement every owner too).

    Example: civichain land add-encumbrance 110101-001-0042 --kind mortgage --holder bank/lender --blocking
      --amount 800000.00 --document loan.pdf --account land-bureau/registrar
      --endorse residents/alice --endorse bank/lender
    """
    from civichain.modules.land import AddEncumbrance

    args = _land_args(AddEncumbrance, amount_fen=_hundredths(amount, "--amount", "yuan"), blocking=blocking,
                      document=_document(document, "--document"), holder=holder, kind=kind, parcel=parcel)
    _land_report(_land_send(net, node, account, key, "add_encumbrance", args, endorse), as_json)


@land_app.command("release-encumbrance")
def land_release_encumbrance(
    encumbrance: int = typer.Argument(..., help="The encumbrance number."),
    document: str = typer.Option(..., help="The release (file or hex digest)."),
    endorse: list[str] = EndorseOption,
    account: str = LandAccountOption, key: Optional[Path] = LandKeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Release an encumbrance (a registrar sends it; its holder signs).

    Example: civichain land release-encumbrance 3 --document discharge.pdf --account land-bureau/registrar
      --endorse bank/lender
    """
    from civichain.modules.land import ReleaseEncumbrance

    args = _land_args(ReleaseEncumbrance, document=_document(document, "--document"), encumbrance=encumbrance)
    _land_report(_land_send(net, node, account, key, "release_encumbrance", args, endorse), as_json)


def _freeze_command(action: str, parcel: str, case: str, order: str, account: str, key: Optional[Path], net: Path,
                    node: str, as_json: bool) -> None:
    from civichain.modules.land import FreezeParcel

    args = _land_args(FreezeParcel, case=case, order=_document(order, "--order"), parcel=parcel)
    _land_report(_land_send(net, node, account, key, action, args, []), as_json)


@land_app.command("freeze")
def land_freeze(
    parcel: str = typer.Argument(..., help="Parcel id."),
    case: str = typer.Option(..., help="The court case, e.g. (2026)京0101民初1234号."),
    order: str = typer.Option(..., help="The court's order (file or hex digest)."),
    account: str = LandAccountOption, key: Optional[Path] = LandKeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Freeze a parcel for a court case (an account of the court): no transfer, new title, new shape or
    mortgage until every freeze is lifted.

    Example: civichain land freeze 110101-001-0042 --case "(2026)京0101民初1234号" --order order.pdf
      --account court/admin
    """
    _freeze_command("freeze", parcel, case, order, account, key, net, node, as_json)


@land_app.command("unfreeze")
def land_unfreeze(
    parcel: str = typer.Argument(..., help="Parcel id."),
    case: str = typer.Option(..., help="The court case whose freeze is lifted."),
    order: str = typer.Option(..., help="The court's order lifting it (file or hex digest)."),
    account: str = LandAccountOption, key: Optional[Path] = LandKeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Lift a court case's freeze of a parcel (an account of the court).

    Example: civichain land unfreeze 110101-001-0042 --case "(2026)京0101民初1234号" --order ruling.pdf
      --account court/admin
    """
    _freeze_command("unfreeze", parcel, case, order, account, key, net, node, as_json)


@land_app.command("subdivide")
def land_subdivide(
    parcel: str = typer.Argument(..., help="The parcel to divide."),
    child: list[str] = typer.Option([], "--child", help="A new parcel as 'ID;AREA_M2;SURVEY;LOCATION'; repeatable "
                                                        "(at least two; areas summing exactly to the parcel's)."),
    document: str = typer.Option(..., help="The approved subdivision plan (file or hex digest)."),
    endorse: list[str] = EndorseOption,
    account: str = LandAccountOption, key: Optional[Path] = LandKeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Divide a parcel; each part gets a title with the same owners and shares (a registrar sends it; every
    owner signs).

    Example: civichain land subdivide 110101-001-0042 --document plan.pdf --account land-bureau/registrar
      --child "110101-001-0042-1;600.00;survey-1.pdf;north half"
      --child "110101-001-0042-2;634.56;survey-2.pdf;south half"
      --endorse residents/alice --endorse residents/bob
    """
    from civichain.modules.land import ChildParcel, Subdivide

    parts = []
    for item in child:
        fields = item.split(";", 3)
        if len(fields) != 4:
            _land_usage("--child", item, "ID;AREA_M2;SURVEY;LOCATION")
        child_id, area, survey, location = fields
        parts.append(_land_args(ChildParcel, area_dm2=_hundredths(area, "--child area", "square metres"),
                                boundary=_document(survey, "--child survey"), id=child_id, location=location))
    args = _land_args(Subdivide, children=tuple(parts), document=_document(document, "--document"), parcel=parcel)
    _land_report(_land_send(net, node, account, key, "subdivide", args, endorse), as_json)


@land_app.command("merge")
def land_merge(
    new_parcel: str = typer.Argument(..., help="The merged parcel's new id."),
    parcel: list[str] = typer.Option([], "--parcel", help="A parcel to merge; repeatable (at least two, adjacent, "
                                                          "with the same owners, shares and land use)."),
    area: str = typer.Option(..., help="The merged area in square metres: exactly the sum of the parcels'."),
    location: str = typer.Option(..., help="Where it is, in words."),
    survey: str = typer.Option(..., help="The merged parcel's survey (file or hex digest)."),
    document: str = typer.Option(..., help="The approved merger (file or hex digest)."),
    endorse: list[str] = EndorseOption,
    account: str = LandAccountOption, key: Optional[Path] = LandKeyOption,
    net: Path = NetOption, node: str = NodeOption, as_json: bool = JsonOption,
) -> None:
    """Merge adjacent parcels of the same owners into one (a registrar sends it; every owner signs).

    Example: civichain land merge 110101-001-0050 --parcel 110101-001-0042 --parcel 110101-001-0043
      --area 2469.12 --location "东城区 景山街道 1-3号" --survey survey-0050.pdf --document merger.pdf
      --account land-bureau/registrar --endorse residents/alice
    """
    from civichain.modules.land import Merge

    args = _land_args(Merge, area_dm2=_hundredths(area, "--area", "square metres"),
                      boundary=_document(survey, "--survey"), document=_document(document, "--document"),
                      id=new_parcel, location=location, parcels=tuple(parcel))
    _land_report(_land_send(net, node, account, key, "merge", args, endorse), as_json)


@land_app.command("show")
def land_show(parcel: str = typer.Argument(..., help="Parcel id."), net: Path = NetOption, node: str = NodeOption,
              as_json: bool = JsonOption) -> None:
    """Show a parcel, its title and encumbrances, and check every state proof against one state root.

    Example: civichain land show 110101-001-0042
    """
    from civichain.client.land import check_parcel_answer, parcel as read_parcel

    answer = read_parcel(_api(net, node), parcel)
    check_parcel_answer(answer)
    if as_json:
        console.print_json(json.dumps(answer))
        return
    p = answer["parcel"]["record"]
    console.print(f"parcel {p['id']} ({p['status']}): {p['area_dm2'] // 100}.{p['area_dm2'] % 100:02d} m², "
                  f"{p['land_use']}; " + escape(p["location"]))
    console.print(f"  survey {p['boundary']}; registered at height {p['registered_at']}"
                  + (f" from {', '.join(p['origin'])}" if p["origin"] else ""))
    if p["status"] == "retired":
        console.print(f"  retired at height {p['retired_at']} into {', '.join(p['successors'])}")
    if answer["title"]:
        t = answer["title"]["record"]
        owners = ", ".join(f"{s['owner']} {s['numerator']}/{s['denominator']}" for s in t["owners"])
        console.print(f"  title {t['number']} ({t['status']}, {t['cause']} at height {t['issued_at']}): {owners}")
    else:
        console.print("  no title")
    for f in p["freezes"]:
        console.print("  [red]frozen[/red] for case " + escape(f["case"]) + f" by {f['court']} at height {f['height']}")
    for e in answer["encumbrances"]:
        r = e["record"]
        console.print(f"  {r['kind']} {r['number']} for {r['holder']}" + (" (blocking)" if r["blocking"] else "")
                      + (f", {r['amount_fen'] // 100}.{r['amount_fen'] % 100:02d} yuan" if r["amount_fen"] else ""))
    root = answer["parcel"]["state"]["state_root"]
    console.print(f"  [green]state proofs verified[/green] against state root {root[:16]}… "
                  f"(height {answer['height']})")


@land_app.command("history")
def land_history(parcel: str = typer.Argument(..., help="Parcel id."), net: Path = NetOption, node: str = NodeOption,
                 as_json: bool = JsonOption) -> None:
    """Show a parcel's whole history in order: each event with its height and transaction.

    Example: civichain land history 110101-001-0042
    """
    from civichain.client.land import full_history

    events = full_history(_api(net, node), parcel)
    if as_json:
        console.print_json(json.dumps(events))
        return
    for e in events:
        facts = ", ".join(f"{k}={v}" for k, v in sorted(e["attributes"].items()))
        console.print(f"height {e['height']:>8}  {e['type']:21} tx {e['tx_id'][:16]}…  " + escape(facts))
    console.print(f"{len(events)} events")

# --- land ---


# --- funds ---
funds_app = typer.Typer(help="Public funds: fiscal years, appropriations, allocations, contracts and payments.",
                        no_args_is_help=True)
app.add_typer(funds_app, name="funds")
FundsAccount = typer.Option(..., "--account", help="Signing account.")
FundsKey = typer.Option(None, "--key", help="Key file (default: NET/keys/<account>.key).")
FundsEndorsers = typer.Option([], "--endorser", help="An account of another department that endorses the "
                              "transaction (needed above the year's threshold); repeatable.")
FundsJson = typer.Option(False, "--json", help="Print JSON.")
FundsReason = typer.Option(..., help="Why (public; no personal data).")


@funds_app.command("open-year")
def funds_open_year(year: int = typer.Argument(..., help="Fiscal year, e.g. 2026."),
                    threshold: str = typer.Option(..., help="Approval threshold in yuan: larger movements need a "
                                                  "second department's endorsement."),
                    account: str = FundsAccount, key: Optional[Path] = FundsKey, endorser: list[str] = FundsEndorsers,
                    net: Path = NetOption, node: str = NodeOption, as_json: bool = FundsJson) -> None:
    """Open a fiscal year (the finance bureau); its threshold is fixed for the year.

    Example: civichain funds open-year 2026 --threshold 1000000 --account finance-bureau/admin
    """
    from civichain.modules.funds import OpenYear

    _funds_submit(net, node, account, key, endorser, "open_year",
                  OpenYear(approval_threshold_fen=_fen(threshold), year=year), as_json)


@funds_app.command("close-year")
def funds_close_year(year: int = typer.Argument(..., help="Fiscal year."), account: str = FundsAccount,
                     key: Optional[Path] = FundsKey, endorser: list[str] = FundsEndorsers, net: Path = NetOption,
                     node: str = NodeOption, as_json: bool = FundsJson) -> None:
    """Close a fiscal year whose commitments are all paid or cancelled; nothing of it moves afterwards.

    Example: civichain funds close-year 2026 --account finance-bureau/admin
    """
    from civichain.modules.funds import CloseYear

    _funds_submit(net, node, account, key, endorser, "close_year", CloseYear(year=year), as_json)


@funds_app.command("appropriate")
def funds_appropriate(appropriation: str = typer.Argument(..., help="New appropriation id, e.g. edu-2026."),
                      year: int = typer.Option(..., help="Fiscal year (open)."),
                      amount: str = typer.Option(..., help="Amount in yuan, e.g. 5000000 or 1250.50."),
                      title: str = typer.Option(..., help="Budget line, e.g. \"Compulsory education\"."),
                      basis: str = typer.Option(..., help="The approved budget document: a file, or its SHA-256."),
                      account: str = FundsAccount, key: Optional[Path] = FundsKey,
                      endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                      as_json: bool = FundsJson) -> None:
    """Record an appropriation from the approved budget (the finance bureau).

    Example: civichain funds appropriate edu-2026 --year 2026 --amount 5000000 --title "Education"
      --basis budget-2026.pdf --account finance-bureau/admin --endorser land-bureau/admin
    """
    from civichain.modules.funds import Appropriate

    args = Appropriate(amount_fen=_fen(amount), appropriation=appropriation, basis=_digest(basis, "--basis"),
                       title=title, year=year)
    _funds_submit(net, node, account, key, endorser, "appropriate", args, as_json)


@funds_app.command("adjust-appropriation")
def funds_adjust_appropriation(appropriation: str = typer.Argument(..., help="Appropriation id."),
                               amount: str = typer.Option(..., help="The new amount in yuan."),
                               basis: str = typer.Option(..., help="The budget adjustment document: a file, or its "
                                                         "SHA-256."),
                               reason: str = FundsReason, account: str = FundsAccount, key: Optional[Path] = FundsKey,
                               endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                               as_json: bool = FundsJson) -> None:
    """Raise or cut an appropriation (never below what is allocated from it).

    Example: civichain funds adjust-appropriation edu-2026 --amount 5500000 --basis supplementary.pdf
      --reason "Supplementary budget" --account finance-bureau/admin --endorser land-bureau/admin
    """
    from civichain.modules.funds import AdjustAppropriation

    args = AdjustAppropriation(amount_fen=_fen(amount), appropriation=appropriation,
                               basis=_digest(basis, "--basis"), reason=reason)
    _funds_submit(net, node, account, key, endorser, "adjust_appropriation", args, as_json)


@funds_app.command("create-programme")
def funds_create_programme(programme: str = typer.Argument(..., help="New programme id, e.g. rural-roads-2026."),
                           year: int = typer.Option(..., help="Fiscal year (open)."),
                           department: str = typer.Option(..., help="The organisation that runs it."),
                           title: str = typer.Option(..., help="What the programme is for."),
                           account: str = FundsAccount, key: Optional[Path] = FundsKey,
                           endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                           as_json: bool = FundsJson) -> None:
    """Create a department's programme for a year (the finance bureau).

    Example: civichain funds create-programme rural-roads-2026 --year 2026 --department land-bureau
      --title "Rural roads" --account finance-bureau/admin
    """
    from civichain.modules.funds import CreateProgramme

    args = CreateProgramme(department=department, programme=programme, title=title, year=year)
    _funds_submit(net, node, account, key, endorser, "create_programme", args, as_json)


@funds_app.command("allocate")
def funds_allocate(allocation: str = typer.Argument(..., help="New allocation id."),
                   appropriation: str = typer.Option(..., help="Appropriation to allocate from."),
                   programme: str = typer.Option(..., help="Programme to allocate to (same year)."),
                   amount: str = typer.Option(..., help="Amount in yuan."),
                   account: str = FundsAccount, key: Optional[Path] = FundsKey, endorser: list[str] = FundsEndorsers,
                   net: Path = NetOption, node: str = NodeOption, as_json: bool = FundsJson) -> None:
    """Allocate part of an appropriation to a programme (the finance bureau).

    Example: civichain funds allocate roads-q1 --appropriation edu-2026 --programme rural-roads-2026
      --amount 300000 --account finance-bureau/admin
    """
    from civichain.modules.funds import Allocate

    args = Allocate(allocation=allocation, amount_fen=_fen(amount), appropriation=appropriation, programme=programme)
    _funds_submit(net, node, account, key, endorser, "allocate", args, as_json)


@funds_app.command("adjust-allocation")
def funds_adjust_allocation(allocation: str = typer.Argument(..., help="Allocation id."),
                            amount: str = typer.Option(..., help="The new amount in yuan."),
                            reason: str = FundsReason, account: str = FundsAccount, key: Optional[Path] = FundsKey,
                            endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                            as_json: bool = FundsJson) -> None:
    """Change an allocation: up within its appropriation, down never below what is committed.

    Example: civichain funds adjust-allocation roads-q1 --amount 250000 --reason "Re-planned"
      --account finance-bureau/admin
    """
    from civichain.modules.funds import AdjustAllocation

    args = AdjustAllocation(allocation=allocation, amount_fen=_fen(amount), reason=reason)
    _funds_submit(net, node, account, key, endorser, "adjust_allocation", args, as_json)


@funds_app.command("commit")
def funds_commit(commitment: str = typer.Argument(..., help="New commitment (contract) id."),
                 allocation: str = typer.Option(..., help="Allocation to charge."),
                 payee: str = typer.Option(..., help="Who will be paid: an account or organisation id."),
                 amount: str = typer.Option(..., help="Contract amount in yuan."),
                 contract: str = typer.Option(..., help="The contract document: a file, or its SHA-256."),
                 account: str = FundsAccount, key: Optional[Path] = FundsKey, endorser: list[str] = FundsEndorsers,
                 net: Path = NetOption, node: str = NodeOption, as_json: bool = FundsJson) -> None:
    """Commit part of an allocation to a contract (the programme's department).

    Example: civichain funds commit contract-17 --allocation roads-q1 --payee civil-affairs --amount 120000
      --contract contract-17.pdf --account land-bureau/admin
    """
    from civichain.modules.funds import Commit

    args = Commit(allocation=allocation, amount_fen=_fen(amount), commitment=commitment,
                  contract=_digest(contract, "--contract"), payee=payee)
    _funds_submit(net, node, account, key, endorser, "commit", args, as_json)


@funds_app.command("adjust-commitment")
def funds_adjust_commitment(commitment: str = typer.Argument(..., help="Commitment id."),
                            amount: str = typer.Option(..., help="The new contract amount in yuan."),
                            amendment: str = typer.Option(..., help="The amendment document: a file, or its "
                                                          "SHA-256."),
                            reason: str = FundsReason, account: str = FundsAccount, key: Optional[Path] = FundsKey,
                            endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                            as_json: bool = FundsJson) -> None:
    """Amend a contract's amount: up within its allocation, down never below what is paid.

    Example: civichain funds adjust-commitment contract-17 --amount 130000 --amendment amendment-1.pdf
      --reason "Extra drainage works" --account land-bureau/admin
    """
    from civichain.modules.funds import AdjustCommitment

    args = AdjustCommitment(amendment=_digest(amendment, "--amendment"), amount_fen=_fen(amount),
                            commitment=commitment, reason=reason)
    _funds_submit(net, node, account, key, endorser, "adjust_commitment", args, as_json)


@funds_app.command("cancel-commitment")
def funds_cancel_commitment(commitment: str = typer.Argument(..., help="Commitment id."), reason: str = FundsReason,
                            account: str = FundsAccount, key: Optional[Path] = FundsKey,
                            endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                            as_json: bool = FundsJson) -> None:
    """Cancel a contract: its unpaid part returns to the allocation.

    Example: civichain funds cancel-commitment contract-17 --reason "Contractor withdrew" --account land-bureau/admin
    """
    from civichain.modules.funds import CancelCommitment

    _funds_submit(net, node, account, key, endorser, "cancel_commitment",
                  CancelCommitment(commitment=commitment, reason=reason), as_json)


@funds_app.command("disburse")
def funds_disburse(disbursement: str = typer.Argument(..., help="New payment id."),
                   commitment: str = typer.Option(..., help="Commitment (contract) to pay under."),
                   amount: str = typer.Option(..., help="Amount in yuan."),
                   invoice: str = typer.Option(..., help="The invoice document: a file, or its SHA-256."),
                   contract: str = typer.Option(..., help="The contract document: a file, or its SHA-256."),
                   account: str = FundsAccount, key: Optional[Path] = FundsKey, endorser: list[str] = FundsEndorsers,
                   net: Path = NetOption, node: str = NodeOption, as_json: bool = FundsJson) -> None:
    """Pay a contract's payee against an invoice (the programme's department).

    Example: civichain funds disburse pay-1 --commitment contract-17 --amount 40000 --invoice invoice-1.pdf
      --contract contract-17.pdf --account land-bureau/admin
    """
    from civichain.modules.funds import Disburse

    args = Disburse(amount_fen=_fen(amount), commitment=commitment, contract=_digest(contract, "--contract"),
                    disbursement=disbursement, invoice=_digest(invoice, "--invoice"))
    _funds_submit(net, node, account, key, endorser, "disburse", args, as_json)


@funds_app.command("reverse-disbursement")
def funds_reverse_disbursement(disbursement: str = typer.Argument(..., help="Payment id."), reason: str = FundsReason,
                               account: str = FundsAccount, key: Optional[Path] = FundsKey,
                               endorser: list[str] = FundsEndorsers, net: Path = NetOption, node: str = NodeOption,
                               as_json: bool = FundsJson) -> None:
    """Record that a payment came back: it no longer counts as spent.

    Example: civichain funds reverse-disbursement pay-1 --reason "Returned by the bank" --account land-bureau/admin
    """
    from civichain.modules.funds import ReverseDisbursement

    _funds_submit(net, node, account, key, endorser, "reverse_disbursement",
                  ReverseDisbursement(disbursement=disbursement, reason=reason), as_json)


@funds_app.command("programme")
def funds_programme(programme: str = typer.Argument(..., help="Programme id."), net: Path = NetOption,
                    node: str = NodeOption, as_json: bool = FundsJson) -> None:
    """Show a programme's budget, committed, spent and remaining, and check its state proof.

    Example: civichain funds programme rural-roads-2026
    """
    from civichain.client.funds import yuan
    from civichain.client.proofs import check_state_answer
    from civichain.modules.funds_records import programme_key

    answer = _funds_api(net, node).programme(programme)
    check_state_answer(programme_key(programme), answer["state"])
    if as_json:
        console.print_json(json.dumps(answer))
        return
    p, s = answer["programme"], answer["summary"]
    console.print(f"programme {p['id']} of {p['department']}, fiscal year {p['year']}: " + escape(p["title"]))
    for label in ("budget", "committed", "spent", "remaining", "unpaid"):
        console.print(f"  {label:10} {yuan(s[label + '_fen']):>22} yuan")
    console.print(f"  payments   {s['payments']:>22}")
    _funds_proof_line(answer["state"])


@funds_app.command("payments")
def funds_payments(programme: str = typer.Argument(..., help="Programme id."), net: Path = NetOption,
                   node: str = NodeOption, as_json: bool = FundsJson) -> None:
    """List a programme's payments in order, each traced to its contract, allocation and appropriation, and
    check every state proof.

    Example: civichain funds payments rural-roads-2026
    """
    from civichain.client.funds import yuan
    from civichain.client.proofs import check_state_answer
    from civichain.modules.funds_records import disbursement_key

    payments = _funds_api(net, node).all_payments(programme)
    for answer in payments:
        check_state_answer(disbursement_key(answer["payment"]["id"]), answer["state"])
    shown = [a["payment"] for a in payments]
    if as_json:
        console.print_json(json.dumps(shown))
        return
    if not shown:
        console.print("no payments")
    for d in shown:
        note = f" [yellow]reversed at height {d['reversed_at']}[/yellow]" if d["reversed_at"] else ""
        console.print(f"#{d['seq']} {d['id']}: {yuan(d['amount_fen'])} yuan to {d['payee']} at height {d['height']} "
                      f"(contract {d['commitment']}, allocation {d['allocation']}, appropriation "
                      f"{d['appropriation']}; invoice {d['invoice'][:16]}…){note}")
    console.print(f"[green]{len(payments)} state proofs verified[/green]")


@funds_app.command("year")
def funds_year(year: int = typer.Argument(..., help="Fiscal year."), net: Path = NetOption, node: str = NodeOption,
               as_json: bool = FundsJson) -> None:
    """Show a fiscal year's threshold, status and totals, and its programmes, checking every state proof.

    Example: civichain funds year 2026
    """
    from civichain.client.funds import yuan
    from civichain.client.proofs import check_state_answer
    from civichain.modules.funds_records import programme_key, year_key

    client = _funds_api(net, node)
    answer = client.year(year)
    check_state_answer(year_key(year), answer["state"])
    programmes, cursor = list(answer["programmes"]), answer["next_cursor"]
    while cursor is not None:
        page = client.year(year, cursor)
        programmes.extend(page["programmes"])
        cursor = page["next_cursor"]
    for p in programmes:
        check_state_answer(programme_key(p["programme"]["id"]), p["state"])
    if as_json:
        console.print_json(json.dumps({**answer, "programmes": programmes, "next_cursor": None}))
        return
    y = answer["year"]
    console.print(f"fiscal year {y['year']}: {y['status']}; threshold {yuan(y['threshold_fen'])} yuan")
    for label in ("appropriated", "allocated", "committed", "spent"):
        console.print(f"  {label:12} {yuan(y[label + '_fen']):>22} yuan")
    for p in programmes:
        s = p["summary"]
        console.print(f"  {p['programme']['id']} ({p['programme']['department']}): budget {yuan(s['budget_fen'])}, "
                      f"spent {yuan(s['spent_fen'])}, remaining {yuan(s['remaining_fen'])} yuan")
    _funds_proof_line(answer["state"], extra=len(programmes))


def _funds_submit(net: Path, node: str, account: str, key: Optional[Path], endorsers: list[str], action: str,
                  args, as_json: bool) -> None:
    """Sign a funds transaction with the account and each endorser's key, submit it, wait and report it."""
    from civichain.client.funds import yuan

    answer = _send(net, node, account, key, "funds", action, args, endorsers)
    if not as_json and answer.get("status") == "committed":
        for event in answer["receipt"]["events"]:
            facts = [f"{a['key'].removesuffix('_fen')} {yuan(int(a['value']))} yuan" if a["key"].endswith("_fen")
                     else f"{a['key']} {a['value']}" for a in event["attributes"]
                     if a["key"] not in ("basis", "contract", "invoice", "amendment")]
            console.print(f"{event['key']}: {event['type']}; " + escape(", ".join(facts)))
    _report_submission(answer, as_json)


def _funds_api(net: Path, node: str):
    from civichain.client.funds import FundsClient

    return FundsClient(_api(net, node).base_url)


def _fen(text: str) -> int:
    from civichain.client.funds import AmountError, fen_of_yuan

    try:
        return fen_of_yuan(text)
    except AmountError as exc:
        err.print(f"[red]error[/red] {exc.code}: {escape(text)!r}, expected {exc.expected}")
        raise typer.Exit(EXIT_USAGE)


def _digest(text: str, option: str) -> bytes:
    """The SHA-256 of a file, or 64 hex digits given as the digest itself."""
    import hashlib

    path = Path(text)
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).digest()
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        err.print(f"[red]error[/red] cli.bad_digest: {option} {escape(text)!r}, expected a file or 64 hex digits")
        raise typer.Exit(EXIT_USAGE)
    return digest


def _funds_proof_line(state: dict, extra: int = 0) -> None:
    more = f" (and {extra} programme proofs)" if extra else ""
    console.print(f"  [green]state proof verified[/green] against state root {state['state_root'][:16]}… "
                  f"(height {state['height']}){more}")
# --- funds ---
