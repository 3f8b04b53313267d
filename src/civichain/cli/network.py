"""Commands that set up, run and audit a network: init, up, status, export, verify, replay, join, the
processes of one node, and the demo data set."""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import time
from pathlib import Path
from typing import Optional

import typer
from rich.live import Live
from rich.markup import escape

from civichain.cli.common import EXIT_PROBLEM, EXIT_RUNTIME, NetOption, app, console, err

node_app = typer.Typer(help="Run one node's processes.", no_args_is_help=True)
app.add_typer(node_app, name="node")
demo_app = typer.Typer(help="The demo data set: realistic, reproducible public records.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


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


@demo_app.command("seed")
def demo_seed(
    net: Path = typer.Argument(Path("net"), help="Network folder of a running network."),
    seed: int = typer.Option(1, help="Seed of the data set (same seed, same records)."),
    scale: float = typer.Option(1.0, help="Size relative to the full set (1,000 parcels, 500 identities, ...)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fill a running network with a city's records, in Chinese and English: departments' officers and
    residents, parcels with titles, transfers, mortgages and their release, subdivisions and mergers, a frozen
    parcel, identities with key rotations, credential issuers, schemas and revocations, notarized documents,
    and a fiscal year of programmes and payments. The network needs the ten sample departments
    (`civichain init --organisations 10`).

    Example: civichain demo seed net
    """
    from civichain.cli.common import EXIT_USAGE
    from civichain.demo.data import DemoError
    from civichain.demo.seed import seed_demo
    from civichain.node.network import load_network

    try:
        figures = seed_demo(load_network(net), seed=seed, scale=scale, report=lambda line: err.print(line))
    except DemoError as exc:
        err.print("[red]error[/red] " + escape(f"{exc.code}: {exc.where} is {exc.got!r}, expected {exc.expected}"),
                  soft_wrap=True)     # one line, whatever the terminal's width
        raise typer.Exit(EXIT_USAGE)
    if as_json:
        console.print_json(json.dumps(figures))
        return
    console.print(f"Seeded {figures['ok']} of {figures['transactions']} transactions in {figures['seconds']} s.")
