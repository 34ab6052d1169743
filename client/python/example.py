#!/usr/bin/env python3
"""Ranks items for a user, as a backend service would.

With ranker_client installed in a virtual environment (see client/python/README.md):

    venv/bin/python client/python/example.py --target localhost:50051 --user 42 --k 5
"""
import argparse
import os
import sys

# Run as a script, Python puts this directory first on sys.path, and the ranker_client source
# there (which has no generated stubs) would hide the installed package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

from ranker_client import RankerClient, RankerError  # noqa: E402 (after the sys.path fix)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="localhost:50051")
    parser.add_argument("--user", type=int, default=1)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--candidates", default="", help="comma-separated item ids")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds, retries included")
    args = parser.parse_args()
    candidates = [int(c) for c in args.candidates.split(",") if c] or None
    with RankerClient(args.target, timeout=args.timeout) as ranker:
        try:
            result = ranker.rank(args.user, args.k, candidates)
        except RankerError as error:
            print(f"rank failed: {error.code.name}: {error.message}", file=sys.stderr)
            return 1
    print(f"model version {result.model_version}")
    for rank, item in enumerate(result.items, 1):
        print(f"{rank:3d}. item {item.item_id}  score {item.score:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
