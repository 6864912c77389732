"""`python -m bench` (`make bench`): every benchmark, then bench/RESULTS.md.

    python -m bench                     # all, full sizes (takes a while)
    python -m bench --quick             # all at toy sizes: does it run?
    python -m bench --only sm2,acks     # some
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import acks, bridged, fanout, intake, sm2, uplinks
from bench.common import Section
from bench.machine import describe

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# Everything from this line on in RESULTS.md is written by hand and kept across runs.
ANALYSIS = "<!-- analysis: kept across runs -->"
ORDER = ("sm2", "acks", "uplinks", "intake", "fanout", "bridged")


def _runners(quick: bool) -> dict[str, Callable[[], Section]]:
    return {
        "sm2": lambda: sm2.run(quick=quick),
        "acks": lambda: acks.run(quick=quick),
        "uplinks": lambda: uplinks.run(quick=quick),
        "intake": lambda: intake.run(quick=quick),
        "fanout": lambda: fanout.run(quick=quick),
        "bridged": lambda: bridged.run(quick=quick),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="toy sizes: a smoke run")
    parser.add_argument("--only", default=",".join(ORDER), help=f"comma list of {ORDER}")
    parser.add_argument("--out", type=Path, default=None,
                        help="results file (default bench/RESULTS.md; --quick: print only)")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [n for n in chosen if n not in ORDER]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {ORDER}")
    runners = _runners(args.quick)
    sections: list[str] = []
    failed = 0
    for name in chosen:
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            text = runners[name]().markdown()
        except Exception:  # one broken benchmark must not lose the others' figures
            failed += 1
            text = f"## {name}\n\nFAILED:\n\n```\n{traceback.format_exc()[-3000:]}```\n"
        print(text, flush=True)
        sections.append(text)
    head = [f"# Benchmark results ({'quick' if args.quick else 'full'} run, "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)", "", "## Machine", "", *describe(),
            ""]
    out = args.out or (None if args.quick else RESULTS)
    if out is not None:
        kept = ""
        if out.exists():
            old = out.read_text(encoding="utf-8")
            kept = old[old.index(ANALYSIS):] if ANALYSIS in old else ""
        text = "\n".join(head) + "\n" + "\n".join(sections)
        out.write_text(text + ("\n" + kept if kept else ""), encoding="utf-8")
        print(f"written {out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
