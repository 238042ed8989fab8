"""report.md from bench/report.py's summary: the side-by-side tables and how they were measured."""

from __future__ import annotations


def _ops(figures: dict | None) -> str:
    if not figures:
        return "n/a"
    ops = figures["ops"]
    return f"{ops['median']:,.0f} ({ops['min']:,.0f}..{ops['max']:,.0f})"


def _p99(figures: dict | None, bound: bool) -> str:
    if not figures or figures["p99_us"] is None:
        return "n/a"
    return ("≤ " if bound else "") + f"{figures['p99_us']:,.0f}"


def _per_cpu(figures: dict | None) -> str:
    if not figures or not figures["ops_per_server_cpu_s"]:
        return "n/a"
    return f"{figures['ops_per_server_cpu_s']:,.0f}"


def _ratio(load: dict) -> str:
    ratio = load["ratio"]
    if not ratio:
        return "n/a"
    return f"{ratio['median']:.2f} ({ratio['min']:.2f}..{ratio['max']:.2f})"


def _hits(load: dict) -> str:
    """Per server: how many gets hit, how the lock workload's lockgens were answered, error replies."""
    parts = []
    for server, figures in load["servers"].items():
        if figures.get("gets"):
            share = 100 * figures["get_hits"] / figures["gets"]
            parts.append(f"{server} {share:.1f} % of {figures['gets']:,} gets hit")
        if "lockgens" in figures:
            parts.append(f"{server} answered {figures['lockgens']:,} lockgens: GEN {figures['gen']:,}, "
                         f"value {figures['value']:,}, BUSY {figures['busy']:,}; {figures['setgens']:,} setgens, "
                         f"NOT_OWNER {figures['not_owner']:,}")
        if figures.get("errors"):
            parts.append(f"{server} {figures['errors']:,} error replies")
    return "; " + ", ".join(parts) if parts else ""


def _throughput_table(loads: list[dict]) -> list[str]:
    lines = ["| load | memcached ops/s | dogpiled ops/s | dogpiled / memcached | p99 µs memcached | p99 µs dogpiled "
             "| ops per server CPU-s memcached | ops per server CPU-s dogpiled |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for load in loads:
        mc, dp = load["servers"].get("memcached"), load["servers"].get("dogpiled")
        bound = load["p99_kind"] == "log2 bucket bound"
        lines.append(f"| {load['name']} | {_ops(mc)} | {_ops(dp)} | {_ratio(load)} | {_p99(mc, bound)} "
                     f"| {_p99(dp, bound)} | {_per_cpu(mc)} | {_per_cpu(dp)} |")
    return lines


def _bytes_table(data: dict) -> list[str]:
    lines = [f"{data['items']:,} items of {data['key_bytes']}-byte keys and {data['value_bytes']}-byte values "
             f"(payload {data['key_bytes'] + data['value_bytes']} B), RSS growth / items, "
             f"{data['rounds']} rounds, a fresh server each:", "",
             "| server | bytes per item, median | spread (min..max) |", "| --- | ---: | ---: |"]
    for server in ("memcached", "dogpiled"):
        if server in data["servers"]:
            figures = data["servers"][server]
            lines.append(f"| {server} | {figures['median']:.1f} | {figures['min']:.1f}..{figures['max']:.1f} |")
    return lines


def _drift_table(data: dict) -> list[str]:
    lines = [f"-m {data['memory_mb']}, {data['seconds']:.0f} s of sets with sizes drifting over "
             f"{data['smallest']} B..{data['largest'] // 1024} KB (uniform, log-uniform, shifting windows); "
             "RSS in MiB (the time series: raw/drift.csv and the chart):", "",
             "| server | idle | peak | end | -m + 10% + idle | peak / that |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in data["servers"]:
        lines.append(f"| {row['server']} | {row['idle_mib']:.1f} | {row['peak_mib']:.1f} | {row['end_mib']:.1f} "
                     f"| {row['bound_mib']:.1f} | {row['peak_mib'] / row['bound_mib']:.2f} |")
    return lines


def markdown(summary: dict) -> str:
    """The whole report.md."""
    meta = summary["meta"]
    out = [f"# dogpiled vs {meta['memcached']}, {meta['date']} ({meta['mode']} run)", ""]
    if meta["mode"] == "quick":
        out += ["**--quick: 2 short rounds per load, to check the pipeline; not figures to quote.**", ""]
    out += [f"dogpiled {meta['dogpiled_commit']}; {meta['cpus']} × {meta['cpu_model']}, Linux {meta['kernel']}; "
            f"the machine was {meta['busy_before_pct']}% busy just before the start; "
            f"{meta['total_seconds']} s in all.", ""]
    if summary["loads"]:
        out += ["## Throughput and p99 per load", "",
                "Medians over the rounds, with min..max; dogpiled / memcached is the ratio within each round "
                f"(median, min..max). Placement: {meta['pinning']}; the same settings for both servers, "
                "rounds alternating which server went first.", ""]
        out += _throughput_table(summary["loads"])
        out += ["", "Loads:", ""]
        out += [f"- **{load['name']}** ({load['tool']}): {load['description']}{_hits(load)}."
                for load in summary["loads"]]
        out += ["", "p99: loadgen's is from an HdrHistogram of every reply (request written to reply read); "
                "memcaslap's (≤) is the upper bound of the power-of-two bucket of its latency histogram that "
                "holds the 99th percentile, the finest it reports. Ops per server CPU-second (ops / the server's "
                "user + system time over the run) is steadier than ops/s when the machine is not quiet."]
        if "memcaslap_max_other_cpu_pct" in meta:
            out += ["", f"Under memcaslap, other processes took up to {meta['memcaslap_max_other_cpu_pct']}% "
                    "of the machine's CPU in a round (more than a few % means noisy figures)."]
        out.append("")
    if summary["bytes_per_item"]:
        out += ["## Memory: bytes per item", ""] + _bytes_table(summary["bytes_per_item"]) + [""]
    if summary["drift"]:
        out += ["## Memory: RSS under drifting item sizes", ""] + _drift_table(summary["drift"]) + [""]
    seconds = [f"{name} {meta[name + '_seconds']} s" for name in
               ("pipelined", "memcaslap", "large", "lock", "bytes", "drift") if name + "_seconds" in meta]
    out += ["## How", "", "`bench/report.py" + (" --quick" if meta["mode"] == "quick" else "") + "`: "
            + ", ".join(seconds) + ". Each section's own output is in logs/, its JSON in raw/.", ""]
    if summary.get("failures"):
        out += ["## Failed", ""] + [f"- {failure}" for failure in summary["failures"]] + [""]
    return "\n".join(out)
