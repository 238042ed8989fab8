"""bench/report.py's arithmetic and compare.sh's p99 parser, on fixed inputs.

    /work/main/.venv-test/bin/pytest -q -p no:cacheprovider bench/tests

memcaslap_output.txt is a real memcaslap run (-S with the run's length) against memcached 1.6.18.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

from report import loads_of, summarise_runs  # noqa: E402
from report_markdown import markdown  # noqa: E402


def p99_bound(text_file: Path) -> str:
    """compare.sh's own p99_bound function, cut out of the script and run by bash."""
    script = (BENCH / "compare.sh").read_text()
    start = script.index("p99_bound() {")
    end = script.index("\n}\n", start) + 3
    done = subprocess.run(["bash", "-c", script[start:end] + f'p99_bound "{text_file}"'],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_p99_is_the_bound_of_the_log2_bucket_holding_the_99th_percentile():
    # Total: 352,763 events; the buckets up to 2^12 hold 348,720 (98.9 %), up to 2^13 351,151
    assert p99_bound(BENCH / "tests" / "memcaslap_output.txt") == "8192"


def test_p99_without_a_histogram_is_empty(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("Run time: 2.0s Ops: 237755 TPS: 118848 Net_rate: 28.1M/s\n")
    assert p99_bound(plain) == ""


def test_p99_counts_buckets_after_the_first_shown_row(tmp_path):
    # rows start at bucket 8: 10 events in 2^8, 980 in 2^9, 9 in 2^10, 1 in 2^11 -> 99 % reached at 2^9
    histogram = tmp_path / "h.txt"
    histogram.write_text("Total Statistics (1000 events)\n   Log2 Dist:\n"
                         "       8:       10      980        9        1\n\ncmd_get: 1\n")
    assert p99_bound(histogram) == "512"


def run(server, round_index, ops, p99, ratio="1:1"):
    return {"server": server, "ratio": ratio, "round": round_index, "ops_per_sec": ops, "p50_us": 1.0,
            "p99_us": p99, "p999_us": 2.0, "ops_per_server_cpu_s": ops * 2, "errors": 0}


def test_ratios_are_taken_within_each_round_then_the_median():
    runs = [run("memcached", 1, 100, 10), run("dogpiled", 1, 150, 8),
            run("memcached", 2, 200, 12), run("dogpiled", 2, 220, 9),
            run("memcached", 3, 100, 11), run("dogpiled", 3, 300, 7)]
    load = summarise_runs("x", "loadgen", runs, "p99_us", "")
    assert load["ratio"]["median"] == pytest.approx(1.5)
    assert (load["ratio"]["min"], load["ratio"]["max"]) == (pytest.approx(1.1), pytest.approx(3.0))
    assert load["servers"]["memcached"]["ops"] == {"median": 100, "min": 100, "max": 200, "n": 3}
    assert load["servers"]["dogpiled"]["p99_us"] == 8
    assert load["servers"]["dogpiled"]["ops_per_server_cpu_s"] == 440


def test_one_server_only_has_no_ratio_and_the_table_says_n_a():
    summary = {"meta": {"memcached": "memcached 1.6.18", "date": "d", "mode": "quick", "dogpiled_commit": "c",
                        "cpus": "2", "cpu_model": "m", "kernel": "k", "busy_before_pct": "0", "total_seconds": "1",
                        "pinning": "p", "lock_seconds": "1"},
               "loads": loads_of("lock", {"settings": {"connections": 25, "depth": 16, "keys": 1000},
                                          "runs": [run("dogpiled", 1, 400, 9)]}),
               "bytes_per_item": None, "drift": None, "failures": []}
    assert summary["loads"][0]["ratio"] is None
    row = next(line for line in markdown(summary).splitlines() if line.startswith("| lock path"))
    assert row == "| lock path | n/a | 400 (400..400) | n/a | n/a | 9 | n/a | 800 |"


def test_memcaslap_loads_are_split_and_their_p99_marked_as_a_bound():
    runs = [{"load": load, "round": 1, "server": server, "ops_per_sec": ops, "ops_per_server_cpu_s": 0,
             "p99_us_bound": 4096}
            for load, server, ops in (("get-heavy", "memcached", 10), ("get-heavy", "dogpiled", 9),
                                      ("set-heavy", "memcached", 8), ("set-heavy", "dogpiled", 8))]
    loads = loads_of("memcaslap", {"settings": {"concurrency": 50}, "runs": runs})
    assert [load["name"] for load in loads] == ["memcaslap get-heavy", "memcaslap set-heavy"]
    assert loads[0]["ratio"]["median"] == pytest.approx(0.9)
    assert loads[0]["p99_kind"] == "log2 bucket bound"
    assert loads[0]["servers"]["memcached"]["ops_per_server_cpu_s"] is None


def test_hits_come_from_loadgen_hits_or_memcaslap_misses():
    loadgen = summarise_runs("x", "loadgen", [{**run("dogpiled", 1, 5, 1), "gets": 10, "hits": 9}], "p99_us", "")
    memcaslap = summarise_runs("y", "memcaslap", [{"server": "memcached", "round": 1, "ops_per_sec": 5, "gets": 10,
                                                   "get_misses": 3, "p99_us_bound": 8}], "p99_us_bound", "")
    assert (loadgen["servers"]["dogpiled"]["gets"], loadgen["servers"]["dogpiled"]["get_hits"]) == (10, 9)
    assert (memcaslap["servers"]["memcached"]["gets"], memcaslap["servers"]["memcached"]["get_hits"]) == (10, 7)


def test_pinning_is_reported_as_the_scripts_did_it():
    from report import pinning
    assert pinning({("1", "0")}) == "servers pinned to CPU 1, load generators to CPU 0 (taskset)"
    assert pinning({("", "")}) == "unpinned (one CPU or no taskset)"
    assert pinning({("1", "0"), ("", "")}).startswith("placement differed")


def test_an_even_number_of_memcaslap_bounds_gives_a_bound_not_their_mean():
    runs = [{"server": "dogpiled", "round": r, "ops_per_sec": 5, "p99_us_bound": bound}
            for r, bound in ((1, 16384), (2, 32768))]
    assert summarise_runs("y", "memcaslap", runs, "p99_us_bound", "")["servers"]["dogpiled"]["p99_us"] == 32768
