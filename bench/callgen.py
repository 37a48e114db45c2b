"""Generated call history of a 95598 centre, with a fixed seed, as the CSV file `gridline calls
import` reads (the generator itself is models/workforce/callgen.py, shared with the demo centre).

    python bench/callgen.py --groups 3 --from 2026-09-01 --to 2026-11-16 --scale 0.1 > calls.csv
"""

import argparse
import csv
import sys
from datetime import date

from models.workforce.callgen import generate, group_names, records
from models.workforce.forecast import History

__all__ = ["generate", "group_names", "records", "write_csv"]


def write_csv(histories: dict[str, History], handle) -> None:
    """The call records as the CSV file `gridline calls import` reads."""
    rows = records(histories)
    first = next(rows)
    writer = csv.DictWriter(handle, fieldnames=list(first))
    writer.writeheader()
    writer.writerow(first)
    writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=3)
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=date(2026, 9, 1))
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default=date(2026, 11, 16))
    parser.add_argument("--scale", type=float, default=0.1)
    args = parser.parse_args()
    write_csv(generate(args.groups, args.first, args.last, scale=args.scale), sys.stdout)

if __name__ == "__main__":
    main()
