#!/usr/bin/env python3
"""One command for the side-by-side report: dogpiled against memcached 1.6.18, table and chart.

    bench/report.py [--quick] [--only pipelined,memcaslap,large,lock,bytes,drift] [--out DIR]

Runs every comparison in bench/ with the same settings for both servers (each throughput load:
a server pinned to SERVER_CPU, the load generator to LOADGEN_CPU, rounds alternating which
server goes first), collects their --json output and writes, under bench/results/<UTC date>/:
report.md (per load: median ops/s with min..max for each server, the per-round dogpiled/memcached
ratio, p99 latency, ops per server CPU-second; bytes per item; RSS under drifting sizes),
report.png (bench/report_chart.py, matplotlib from PyPI in the venv bench/.venv-report, made on
first use), report.json (the summary the chart is drawn from), raw/ (each script's JSON and the
drift CSV) and logs/ (each script's output). A report, not a test: exits 0 when everything ran,
2 when a section or the chart failed (the rest is still written).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from report_markdown import markdown   # bench/, next to this file

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SECTIONS = ("pipelined", "memcaslap", "large", "lock", "bytes", "drift")
LOCK_COUNTS = ("lockgens", "gen", "value", "busy", "setgens", "not_owner")
LOCK_ARGS = "--workload lock --hot-keys 5 --hot-fraction 0.5 --lock-exptime 1"


def settings(quick: bool) -> dict[str, dict[str, str]]:
    """Environment of each section's script: full (issue 10: >= 5 alternating rounds) or --quick."""
    rounds, duration = ("2", "2") if quick else ("5", "5")
    pipelined = {"ROUNDS": rounds, "DURATION": duration, "WARMUP": "1"}
    return {
        "pipelined": {**pipelined, "RATIOS": "1:10 1:1 10:1"},
        "memcaslap": {"ROUNDS": rounds, "DURATION": "3" if quick else "10", "WARMUP": "1" if quick else "3"},
        # 100 KB values: 256 keys (25 MB) fit either server's -m 64, so every get hits
        "large": {**pipelined, "RATIOS": "0:1", "CONNECTIONS": "20", "DEPTH": "1", "VALUE_SIZE": "102400",
                  "KEYS": "256"},
        "lock": {**pipelined, "RATIOS": "1:1", "KEYS": "1000", "SERVERS": "dogpiled", "LOADGEN_ARGS": LOCK_ARGS},
        "bytes": {"ITEMS": "200000" if quick else "1000000", "ROUNDS": rounds},
        "drift": {"SECONDS": "15" if quick else "60", "INTERVAL": "1" if quick else "2"},
    }


def command(section: str, env: dict[str, str], raw: Path, dogpiled: str) -> list[str]:
    """The script a section runs and its arguments; its environment is `env`."""
    if section == "memcaslap":
        return [str(BENCH / "compare.sh"), "--rounds", env["ROUNDS"], "--duration", env["DURATION"],
                "--warmup", env["WARMUP"], "--json", str(raw / "memcaslap.json")]
    if section == "bytes":
        return [sys.executable, str(BENCH / "bytes_per_item.py"), "--bin", dogpiled, "--items", env["ITEMS"],
                "--rounds", env["ROUNDS"], "--json", str(raw / "bytes.json")]
    if section == "drift":
        return [sys.executable, str(BENCH / "drift.py"), "--bin", dogpiled, "--seconds", env["SECONDS"],
                "--interval", env["INTERVAL"], "--csv", str(raw / "drift.csv"), "--json", str(raw / "drift.json")]
    return [str(BENCH / "compare_pipelined.sh"), "--json", str(raw / f"{section}.json")]


def run_logged(argv: list[str], env: dict[str, str], log: Path) -> int:
    """Runs argv, its output both on our stdout and in `log`. Ctrl-C or SIGTERM stops it (its own
    traps stop the servers it started) and then this script."""
    with open(log, "w") as sink:
        sink.write("$ " + " ".join(f"{k}={v}" for k, v in env.items()) + " " + " ".join(argv) + "\n")
        proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        try:
            for line in proc.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                sink.write(line)
            return proc.wait()
        except BaseException:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            raise


def spread(values: list[float]) -> dict[str, float]:
    """Median, min, max and count of one figure over the rounds."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def summarise_runs(name: str, tool: str, runs: list[dict], p99_key: str, describe: str) -> dict:
    """One load's figures: per server median/min/max of ops/s, median p99 and ops per server
    CPU-second, gets and hits, errors; the dogpiled/memcached ratio of each round where both ran,
    as median/min/max."""
    servers = {}
    for server in ("memcached", "dogpiled"):
        mine = [r for r in runs if r["server"] == server]
        if not mine:
            continue
        p99s = [r[p99_key] for r in mine if r.get(p99_key) is not None]
        per_cpu = [r["ops_per_server_cpu_s"] for r in mine if r.get("ops_per_server_cpu_s")]
        gets = sum(r.get("gets") or 0 for r in mine)
        # loadgen counts hits; memcaslap counts misses
        hits = sum((r.get("hits") or 0) if "hits" in r else (r.get("gets") or 0) - (r.get("get_misses") or 0)
                   for r in mine)
        servers[server] = {"ops": spread([r["ops_per_sec"] for r in mine]), "gets": gets, "get_hits": hits,
                           # a bucket bound stays a bucket bound: the higher middle one, not a mean of two
                           "p99_us": (statistics.median_high(p99s) if tool == "memcaslap"
                                      else statistics.median(p99s)) if p99s else None,
                           "ops_per_server_cpu_s": statistics.median(per_cpu) if per_cpu else None,
                           "errors": sum(r.get("errors", 0) for r in mine)}
        for key in LOCK_COUNTS:   # the lock workload's replies
            if any(key in r for r in mine):
                servers[server][key] = sum(r.get(key, 0) for r in mine)
    ratios = []
    for round_index in sorted({r["round"] for r in runs}):
        pair = {r["server"]: r["ops_per_sec"] for r in runs if r["round"] == round_index}
        if pair.get("memcached") and "dogpiled" in pair:
            ratios.append(pair["dogpiled"] / pair["memcached"])
    return {"name": name, "tool": tool, "description": describe, "servers": servers,
            "ratio": spread(ratios) if ratios else None,
            "p99_kind": "log2 bucket bound" if tool == "memcaslap" else "HdrHistogram"}


def loads_of(section: str, data: dict) -> list[dict]:
    """The loads a section's JSON holds, summarised."""
    runs = data["runs"]
    s = data["settings"]
    if section == "memcaslap":
        return [summarise_runs(f"memcaslap {load}", "memcaslap", [r for r in runs if r["load"] == load],
                               "p99_us_bound",
                               f"{s['concurrency']} connections, unpipelined, "
                               f"{'90% get' if load == 'get-heavy' else '90% set'}, 64 B keys, 100 B values")
                for load in dict.fromkeys(r["load"] for r in runs)]
    shape = f"{s['connections']} connections x {s['depth']} deep"
    if section == "large":
        return [summarise_runs("100 KB gets", "loadgen", runs, "p99_us",
                               f"{shape}, gets of {s['keys']} keys, {s['value_size']} B values")]
    if section == "lock":
        return [summarise_runs("lock path", "loadgen", runs, "p99_us",
                               f"lockgen, then setgen when granted; {shape}, {s['keys']} keys, half of the "
                               "requests on 5 hot keys; dogpiled only: memcached has no lockgen")]
    return [summarise_runs(f"pipelined {ratio}", "loadgen", [r for r in runs if r["ratio"] == ratio], "p99_us",
                           f"{shape}, sets:gets {ratio}, {s['keys']} keys, {s['value_size']} B values")
            for ratio in dict.fromkeys(r["ratio"] for r in runs)]


def pinning(pins: set[tuple[str, str]]) -> str:
    """How the throughput sections placed servers and load generators, as the scripts reported it."""
    if len(pins) != 1:
        return "placement differed between sections (see raw/)" if pins else "no throughput section ran"
    server, loadgen = pins.pop()
    if not server:
        return "unpinned (one CPU or no taskset)"
    return f"servers pinned to CPU {server}, load generators to CPU {loadgen} (taskset)"


def machine() -> dict[str, str]:
    """What the figures were measured on, and how busy it was just before."""
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "?")

    def ticks() -> tuple[int, int]:
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(fields) - fields[3] - fields[4], sum(fields)
    busy0, all0 = ticks()
    time.sleep(1)
    busy1, all1 = ticks()
    git = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    version = subprocess.run(["memcached", "-V"], capture_output=True, text=True)
    return {"cpus": str(os.cpu_count()), "cpu_model": model, "kernel": os.uname().release,
            "busy_before_pct": f"{100 * (busy1 - busy0) / max(1, all1 - all0):.0f}",
            "dogpiled_commit": git.stdout.strip() or "?", "memcached": version.stdout.strip() or "?"}


def chart_python(given: str | None) -> str:
    """A Python with matplotlib: --python, else the venv bench/.venv-report (made and filled from
    PyPI on first use)."""
    if given:
        return given
    venv = BENCH / ".venv-report"
    python = venv / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", "import matplotlib"]).returncode == 0:
        return str(python)
    print(f"report: making {venv} with matplotlib (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "matplotlib"], check=True)
    return str(python)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 short rounds per load (checks the pipeline)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma list of " + ",".join(SECTIONS))
    parser.add_argument("--out", help="results folder (default bench/results/<UTC date>)")
    parser.add_argument("--python", help="a Python with matplotlib for the chart (default: bench/.venv-report)")
    parser.add_argument("--no-chart", action="store_true")
    args = parser.parse_args()
    # SIGTERM like Ctrl-C: run_logged stops the running script, whose traps stop its servers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    chosen = [s for s in args.only.split(",") if s]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {','.join(SECTIONS)}")
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = Path(args.out) if args.out else BENCH / "results" / today
    raw, logs = out / "raw", out / "logs"
    raw.mkdir(parents=True, exist_ok=True)
    logs.mkdir(exist_ok=True)
    dogpiled = str(Path(os.environ.get("DOGPILED_BIN", ROOT / ".build/release/dogpiled")).resolve())
    started = time.monotonic()
    failures: list[str] = []
    python = None
    if not args.no_chart:   # before the measurements: pip must not run during them
        try:
            python = chart_python(args.python)
        except (OSError, subprocess.CalledProcessError) as error:
            failures.append(f"chart: no matplotlib ({error})")
    if not Path(dogpiled).exists():
        print("report: building dogpiled (release)", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "dogpiled"],
                       cwd=ROOT, check=True)
    os.environ["DOGPILED_BIN"] = dogpiled
    info = machine()
    info.update(mode="quick" if args.quick else "full", date=today)
    summary: dict = {"meta": info, "loads": [], "bytes_per_item": None, "drift": None}
    envs = settings(args.quick)
    pins = set()   # (server CPU, load generator CPU) of each throughput section; "" = unpinned
    for section in chosen:
        print(f"\n=== report: {section} ===", flush=True)
        section_start = time.monotonic()
        rc = run_logged(command(section, envs[section], raw, dogpiled), envs[section], logs / f"{section}.log")
        info[f"{section}_seconds"] = f"{time.monotonic() - section_start:.0f}"
        if rc != 0:
            failures.append(f"{section}: exit {rc}, see {logs / (section + '.log')}")
            continue
        data = json.loads((raw / f"{section}.json").read_text())
        if section == "bytes":
            summary["bytes_per_item"] = data
        elif section == "drift":
            summary["drift"] = {**data, "csv": str(raw / "drift.csv")}
        else:
            pins.add((data["settings"]["server_cpu"], data["settings"]["loadgen_cpu"]))
            if section == "memcaslap":
                info["memcaslap_max_other_cpu_pct"] = str(data["settings"]["max_other_cpu_pct"])
            summary["loads"] += loads_of(section, data)
    info["total_seconds"] = f"{time.monotonic() - started:.0f}"
    info["pinning"] = pinning(pins)
    summary["failures"] = failures
    (out / "report.json").write_text(json.dumps(summary, indent=1))
    (out / "report.md").write_text(markdown(summary))
    if python and (summary["loads"] or summary["bytes_per_item"] or summary["drift"]):
        chart = subprocess.run([python, str(BENCH / "report_chart.py"), str(out / "report.json"),
                                str(out / "report.png")])
        if chart.returncode != 0:
            failures.append("chart: report_chart.py failed")
            (out / "report.md").write_text(markdown({**summary, "failures": failures}))
    print(f"\nreport: {out / 'report.md'}" + ("" if args.no_chart else f", {out / 'report.png'}"))
    for failure in failures:
        print(f"report: FAILED {failure}", file=sys.stderr)
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
