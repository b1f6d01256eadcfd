"""Write the results sections of MemoryLLM/README.md from the committed reference run.

    python MemoryLLM/report.py           # after `make bench` has written results/reference-lstm/
    python MemoryLLM/report.py --check   # exit 1 if the README is out of date (used by tests)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STAGE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(STAGE_DIR.parent))

from shared import reporting, training  # noqa: E402

RUN = STAGE_DIR / "results" / "reference-lstm"


FORMATS = {"rmse": "{:.2f}", "mae": "{:.2f}", "mape": "{:.2f}", "r2": "{:.3f}",
           "directional_accuracy": "{:.1%}", "theil_u": "{:.3f}", "dm_pvalue": "{:.3f}"}


def results_table(m: dict) -> str:
    model = [f"{FORMATS[k].format(m[f'test_{k}_mean'])} ± {FORMATS[k].format(m[f'test_{k}_std'])}"
             for k in FORMATS]
    rows = [[f"**LSTM** (mean ± std, {m['seeds']} seeds)", *model]]
    for name in ("persistence", "drift", "linear"):
        b = m["baselines"][name]
        # Persistence never predicts a move and is the reference of U and DM: nothing to show.
        rows.append([name, *("n/a" if name == "persistence" and k in ("directional_accuracy",
                                                                       "dm_pvalue")
                             else FORMATS[k].format(b[f"test_{k}"]) for k in FORMATS)])
    return reporting.markdown_table(
        ["model", "RMSE", "MAE", "MAPE %", "R²", "direction", "Theil's U", "DM p-value"], rows)


def summary(m: dict) -> str:
    u, u_std = m["test_theil_u_mean"], m["test_theil_u_std"]
    beats = u < 1.0
    verdict = ("beats persistence on average" if beats else
               "does **not** beat persistence (tomorrow = today)")
    return (f"Test period {m['test_start']} to {m['test_end']} ({m['test_days']} trading days), "
            f"never seen during training or model selection. The LSTM ({m['params']:,} "
            f"parameters, target: next-day {m['target']}) {verdict}: Theil's U "
            f"{u:.3f} ± {u_std:.3f} over {m['seeds']} seeds (below 1 would mean a smaller RMSE "
            f"than persistence). Training took {m['train_seconds']:.0f} s for all seeds, "
            f"{m['seconds_per_epoch']:.2f} s per epoch on 2 CPU cores.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the README differs from the results")
    args = parser.parse_args(argv)
    if not (RUN / "metrics.json").is_file():
        print(f"error: no reference run in {RUN}; run `make bench` first", file=sys.stderr)
        return 2
    m = training.read_json(RUN / "metrics.json")
    sections = {"results-summary": summary(m), "results-table": results_table(m)}
    return reporting.write_sections(STAGE_DIR / "README.md", sections, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
