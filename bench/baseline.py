"""The naive baseline `check` is measured against: open every rollout, ``orjson.loads`` every line.

It finds nothing and reports nothing; it is the least a tool that looks at every line must do, written
the way anyone would write it first. Usage: ``python bench/baseline.py PATH...`` (files or folders).
"""

from __future__ import annotations

import os
import sys

import orjson


def rollouts(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    return sorted(
        os.path.join(folder, name)
        for folder, _dirs, names in os.walk(path)
        for name in names
        if name.startswith("rollout-") and name.endswith(".jsonl")
    )


def main(paths: list[str]) -> int:
    unreadable = 0
    for root in paths:
        for path in rollouts(root):
            with open(path, "rb") as f:
                for line in f:
                    try:
                        orjson.loads(line)
                    except orjson.JSONDecodeError:
                        unreadable += 1
    print(unreadable)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
