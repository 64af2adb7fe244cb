#!/usr/bin/env python3
"""Time whole processes: run each command N times, print the median wall time and peak RSS.

Every run is a fresh process (start-up, imports and JIT compilation included), its output
sent to /dev/null. Wall time is measured around the process, from spawn to exit. Peak RSS
comes from one more run per command under GNU time (`/usr/bin/time -f %M`): a child forked
from Python inherits Python's own high-water mark (about 14 MiB), so the timed runs'
ru_maxrss cannot go below it, while one forked from `time` starts near 1 MiB. With
several commands the runs are interleaved (A B C A B C ...), so that a machine that slows
down part-way through slows every command alike.

    python3 scripts/time_runs.py -n 10 -- target/release/gradtutor demo vanishing --depth 20
    python3 scripts/time_runs.py -n 10 --warmup 1 \\
        -c "target/release/gradtutor demo vanishing --depth 20" \\
        -c "python3 scripts/probe_numpy.py --depth 20"

Exit status 1 if any run fails (its stderr is shown).
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def peak_rss(argv):
    """Peak RSS in bytes of one run of argv, as GNU time reports it (KiB)."""
    with tempfile.NamedTemporaryFile(mode="r") as out:
        subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", out.name, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        return int(out.read().split()[-1]) * 1024


def run_once(argv):
    """Wall seconds of one run of argv."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Read stderr in full before reaping, so a chatty process cannot block on a full pipe.
    err = proc.stderr.read()
    proc.stderr.close()
    _, status, _ = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(err.decode(errors="replace"))
        raise SystemExit(f"{shlex.join(argv)} exited with status {proc.returncode}")
    return wall


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Give one command after --, or several with -c.",
    )
    parser.add_argument("-n", "--runs", type=int, default=10, help="timed runs per command (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first, per command (default 1)")
    parser.add_argument("-c", "--command", action="append", default=[], help="a command, as one shell-quoted string")
    parser.add_argument("--json", metavar="FILE", help="also write every run's figures to FILE as JSON")
    parser.add_argument("argv", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    args = parser.parse_args()

    commands = [shlex.split(c) for c in args.command]
    rest = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if rest:
        commands.append(rest)
    if not commands or args.runs < 1:
        parser.error("give a command (after -- or with -c) and --runs of at least 1")

    for _ in range(args.warmup):
        for argv in commands:
            run_once(argv)
    results = [[] for _ in commands]
    for _ in range(args.runs):
        for argv, out in zip(commands, results):
            out.append(run_once(argv))

    report = []
    width = max(len(shlex.join(c)) for c in commands)
    print(f"{'command':<{width}}  {'median s':>9} {'min s':>7} {'max s':>7}  {'peak RSS MiB':>12}  (runs: {args.runs})")
    for argv, walls in zip(commands, results):
        median_wall = statistics.median(walls)
        rss = peak_rss(argv)
        print(
            f"{shlex.join(argv):<{width}}  {median_wall:9.3f} {min(walls):7.3f} {max(walls):7.3f}"
            f"  {rss / 2**20:12.1f}"
        )
        report.append(
            {
                "command": argv,
                "runs": args.runs,
                "warmup": args.warmup,
                "median_seconds": median_wall,
                "seconds": walls,
                "peak_rss_bytes": rss,
            }
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
