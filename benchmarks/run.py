"""The benchmarks behind `make bench`: speed and accuracy targets live here, not in tests.

    make bench                       # or: python benchmarks/run.py
    python benchmarks/run.py --models lstm gru

TinyLLM: trains every rung of the model ladder with the default settings on the `tiny`
corpus (each run is a reference run, written to TinyLLM/results/reference-<model>/ for the
write-up), then prints a table and writes results/bench.json. Expect about 5 minutes per
recurrent model on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared import reporting, training  # noqa: E402
from shared.config import load_stage_config  # noqa: E402

_tiny = load_stage_config(ROOT / "TinyLLM" / "config.py")
TINYLLM_MODELS, TINYLLM_DEFAULT = _tiny.MODELS, _tiny.TinyConfig().model
# Targets from the TinyLLM issue: the default model's validation loss and wall time.
TINYLLM_TARGET_LOSS, TINYLLM_TARGET_SECONDS = 1.55, 300.0


def bench_tinyllm(models) -> dict:
    rows = []
    for model in models:
        print(f"\n=== TinyLLM {model}: default budget ===", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "TinyLLM" / "train.py"), "--model", model,
                        "--run-name", f"reference-{model}"], check=True)
        wall = time.perf_counter() - started
        m = training.read_json(ROOT / "TinyLLM" / "results" / f"reference-{model}" / "metrics.json")
        rows.append({"model": model, "params": m["params"],
                     "tokens_per_second": m["tokens_per_second"], "val_loss": m["val_loss"],
                     "val_bits_per_char": m["val_bits_per_char"],
                     "train_seconds": m["train_seconds"], "wall_seconds": round(wall, 1)})
    return {"rows": rows, "default_model": TINYLLM_DEFAULT, "target_val_loss": TINYLLM_TARGET_LOSS,
            "target_seconds": TINYLLM_TARGET_SECONDS}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(TINYLLM_MODELS),
                        choices=TINYLLM_MODELS, help="TinyLLM models to benchmark")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench.json"),
                        help="where to write the JSON results")
    args = parser.parse_args(argv)
    tiny = bench_tinyllm(args.models)
    result = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "tinyllm": tiny}
    training.write_json(args.out, result)
    print("\n" + reporting.markdown_table(
        ["model", "params", "chars/s", "val nats/char", "val bits/char", "train s", "wall s"],
        [[r["model"], r["params"], f"{r['tokens_per_second']:,.0f}", f"{r['val_loss']:.3f}",
          f"{r['val_bits_per_char']:.3f}", f"{r['train_seconds']:.0f}", f"{r['wall_seconds']:.0f}"]
         for r in tiny["rows"]]))
    for r in tiny["rows"]:
        if r["model"] == TINYLLM_DEFAULT:
            ok = r["val_loss"] <= TINYLLM_TARGET_LOSS and r["wall_seconds"] <= TINYLLM_TARGET_SECONDS
            print(f"\ntarget ({TINYLLM_DEFAULT} <= {TINYLLM_TARGET_LOSS} nats/char within "
                  f"{TINYLLM_TARGET_SECONDS:.0f} s): {'met' if ok else 'NOT met'}")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
