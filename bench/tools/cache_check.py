#!/usr/bin/env python3
"""cache_check.py TABLE.tsv < VALUES

Compares cached world rows with the table. TABLE.tsv: the world table, one "id<TAB>randomnumber"
line per row (psql -qtA -F $'\\t'). VALUES: one cached value per line, as `redis-cli mget` prints
them ({"id":…,"randomNumber":…}; an empty line for a key that expired in between).
Prints {"cached": N, "equal": N, "different": N, "unreadable": N, "missing": N} (missing: rows of
the table with no cached value) and exits 1 unless every cached value equals its row.
"""
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    table = {}
    with open(sys.argv[1]) as f:
        for line in f:
            if line.strip():
                row_id, number = line.split("\t")
                table[int(row_id)] = int(number)
    counts = {"cached": 0, "equal": 0, "different": 0, "unreadable": 0}
    seen = set()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        counts["cached"] += 1
        try:
            value = json.loads(line)
            row_id, number = value["id"], value["randomNumber"]
        except (ValueError, TypeError, KeyError):
            counts["unreadable"] += 1
            continue
        seen.add(row_id)
        counts["equal" if table.get(row_id) == number else "different"] += 1
    counts["missing"] = len(table.keys() - seen)
    print(json.dumps(counts))
    return 0 if counts["equal"] == counts["cached"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
