"""The "try this" exercises at the end of every stage's README: one runner, so that each stage's
exercises.py holds only its exercises and every one of them takes the same flags.

    cd TinyLLM
    python exercises.py --list        # what to change, the command, the range to expect
    python exercises.py --solution 2  # the answer, then the command run, then its number beside the range
    python exercises.py --solution all --smoke   # every solution at the scripts' --smoke sizes (the test)
    python exercises.py --seeds       # run them for their seeds: results/reference-exercises/exercises.json
    python exercises.py --report      # the README's exercises section from that file (--check: compare)

An exercise is one or more commands of the stage's own scripts, run from the stage folder as a
learner would, and the outcomes read from what they write (a metrics.json key) or print. The
range a README promises is the lowest and highest outcome over seeds (the script's default seed,
then 1, 2, ...), rounded outward, from `--seeds`: nothing in it is typed by hand. A solution's
claim (which setting wins, say) is checked against those runs by `--report`, which refuses to
write a section whose solution the numbers contradict.

Measured runs (`--seeds`, `--smoke`) write into a scratch folder that is deleted afterwards, with
one CPU thread, so nothing committed is touched; a plain `--solution N` runs the command exactly as
the README prints it, into the script's results/ folder (run names `ex...`, which git ignores).
Imported by every stage's exercises.py; `--list` imports nothing heavy, so a notebook can call it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.runtime.errors import UserError

from tools import reporting

SECTION = "exercises"
HEADING = "## Try this"
RESULTS = Path("results") / "reference-exercises" / "exercises.json"
SEEDS = (None, 1, 2, 3, 4)  # None: the script's own default seed, so the printed command is one of them
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
              "TF_NUM_INTEROP_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


@dataclass(frozen=True)
class Command:
    """One run of a stage script, from the stage folder.

    `args` are what the exercise is about and stay in a smoke run; `budget` shortens the run to
    about a minute and is replaced by `smoke` in a smoke run (by default the train scripts'
    --smoke sizes, and no TensorBoard files, whose writer costs a second a run). The
    text "{results}" in an argument is the script's results folder (a scratch folder when
    measured). With `run_name` the command ends with `--run-name <name>` and its files are read
    from <results>/<name>/; with `out_dir` a measured run gets `--out-dir <scratch>`."""

    name: str
    script: str
    args: tuple[str, ...] = ()
    budget: tuple[str, ...] = ()
    smoke: tuple[str, ...] = ("--smoke", "--no-tensorboard")  # every train script takes both
    run_name: bool = True
    out_dir: bool = True
    seeded: bool = True

    def results_dir(self) -> Path:
        """Where the script writes by default, relative to the stage folder."""
        return Path(self.script).parent / "results"

    def shown(self) -> str:
        """The command as the README prints it."""
        return shlex.join(["python", self.script, *self.argv(str(self.results_dir()), smoke=False)])

    def argv(self, results: str, smoke: bool, seed: int | None = None,
             scratch: str | None = None) -> list[str]:
        args = [a.replace("{results}", results) for a in self.args]
        args += list(self.smoke if smoke else self.budget)
        if self.run_name:
            args += ["--run-name", self.name]
        if scratch is not None and self.out_dir:
            args += ["--out-dir", scratch]
        if seed is not None and self.seeded:
            args += ["--seed", str(seed)]
        return args


@dataclass(frozen=True)
class Outcome:
    """A number an exercise asks the learner to predict: `read(runs)` gets it from the runs."""

    key: str
    label: str
    read: Callable[[Runs], float]
    digits: int = 2
    percent: bool = False
    unit: str = ""

    def show(self, value: float, unit: bool = True) -> str:
        text = f"{_scaled(self, value):,.{self.digits}f}{'%' if self.percent else ''}"
        return text + self.unit_text() if unit else text

    def range(self, values: Sequence[float]) -> str:
        """'2.61 to 2.75 bits/char': lowest and highest, rounded outward (one number if every
        seed gave the same)."""
        if min(values) == max(values):  # the same on every seed (a parameter count, say)
            return self.show(values[0])
        step = 10.0**self.digits
        low = math.floor(min(_scaled(self, v) for v in values) * step + 1e-9) / step
        high = math.ceil(max(_scaled(self, v) for v in values) * step - 1e-9) / step
        percent = "%" if self.percent else ""
        return f"{low:,.{self.digits}f}{percent} to {high:,.{self.digits}f}{percent}{self.unit_text()}"

    def unit_text(self) -> str:
        return f" {self.unit}" if self.unit else ""


def _scaled(outcome: Outcome, value: float) -> float:
    return value * 100 if outcome.percent else value


@dataclass(frozen=True)
class Exercise:
    """One "try this": what to change (and what to predict), the commands, the outcomes, and
    the solution (the answer and why, 2-4 sentences). `holds(seed)` says whether one seed's
    outcomes ({key: value}) bear the solution's claim out; it must for every measured seed."""

    id: str
    title: str
    change: str
    commands: tuple[Command, ...]
    outcomes: tuple[Outcome, ...]
    solution: str
    holds: Callable[[dict[str, float]], bool] | None = None
    seeds: int = 2


class Runs:
    """What an outcome reads: each command's folder (`folder(name)`, `metrics(name)`) and its
    printed output (`stdout(name)`)."""

    def __init__(self, folders: dict[str, Path], printed: dict[str, str]):
        self._folders, self._printed = folders, printed

    def folder(self, name: str) -> Path:
        return self._folders[name]

    def stdout(self, name: str) -> str:
        return self._printed[name]

    def metrics(self, name: str) -> dict:
        path = self.folder(name) / "metrics.json"
        if not path.is_file():
            raise UserError(f"{path} is missing: the run `{name}` wrote no metrics.json")
        return json.loads(path.read_text(encoding="utf-8"))


def metric(name: str, key: str) -> Callable[[Runs], float]:
    """An outcome read from run `name`'s metrics.json; `key` may be a dotted path
    ("baselines.tfidf_logreg.val_macro_f1")."""
    def read(runs: Runs) -> float:
        value = runs.metrics(name)
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                raise UserError(f"{runs.folder(name) / 'metrics.json'} has no {key!r}: "
                                "was it written by an older version of the script?")
            value = value[part]
        return float(value)
    read.__doc__ = f"{key} of {name}"
    return read


# ---------------------------------------------------------------------------------------------
# Running commands


class Runner:
    """Runs commands from the stage folder, each distinct one (argv and seed) once per process,
    so exercises that share a baseline run share it."""

    def __init__(self, stage_dir: Path, smoke: bool, scratch: Path | None, echo: bool):
        self.stage_dir, self.smoke, self.scratch, self.echo = stage_dir, smoke, scratch, echo
        self.done: dict[tuple, tuple[Path, str]] = {}
        self.cpu_seconds: dict[str, dict[str, float]] = {}  # shown command -> {seed: seconds}

    def run(self, command: Command, seed: int | None) -> tuple[Path, str]:
        # A measured run writes to a scratch folder of its seed's, so that a baseline run kept
        # for a later exercise is never overwritten by the same run with another seed.
        scratch = str(self.scratch / f"seed-{seed}") if self.scratch else None
        results = scratch or str(command.results_dir())
        argv = [sys.executable, command.script,
                *command.argv(results, smoke=self.smoke, seed=seed, scratch=scratch)]
        folder = (Path(results) if scratch else self.stage_dir / results) / command.name
        key = tuple(argv)
        if key in self.done:
            return self.done[key]
        shown = shlex.join(["python", *argv[1:]])
        print(f"$ {shown}" + ("" if self.echo else "   ..."), flush=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.scratch:
            env.update(ONE_THREAD)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        # Quiet runs keep stderr in a file, not a pipe: a chatty library filling a pipe that
        # nobody reads while stdout is being read would stall the run.
        with tempfile.TemporaryFile("w+") as errors:
            proc = subprocess.Popen(argv, cwd=self.stage_dir, env=env, stdout=subprocess.PIPE,
                                    stderr=None if self.echo else errors, text=True)
            lines = []
            for line in proc.stdout:
                lines.append(line)
                if self.echo:
                    print(line, end="", flush=True)
            proc.wait()
            errors.seek(0)
            error = errors.read()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        printed = "".join(lines)
        if proc.returncode != 0:
            if not self.echo:
                print(printed[-3000:], error[-3000:], sep="\n", file=sys.stderr)
            raise UserError(f"`{shown}` failed with exit status {proc.returncode} (its output is above)")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"  done: {time.perf_counter() - start:.0f} s, {cpu:.0f} CPU s", flush=True)
        self.cpu_seconds.setdefault(command.shown(), {})[str(seed)] = cpu
        self.done[key] = (folder, printed)
        return self.done[key]

    def measure(self, exercise: Exercise, seed: int | None) -> dict[str, float]:
        folders, printed = {}, {}
        for command in exercise.commands:
            folders[command.name], printed[command.name] = self.run(command, seed)
        runs = Runs(folders, printed)
        return {outcome.key: outcome.read(runs) for outcome in exercise.outcomes}


# ---------------------------------------------------------------------------------------------
# The measured ranges: results/reference-exercises/exercises.json


def load_measured(stage_dir: Path) -> dict:
    path = stage_dir / RESULTS
    if not path.is_file():
        return {"exercises": {}, "commands": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def fresh(exercise: Exercise, measured: dict) -> dict | None:
    """The exercise's measured entry, if it was measured with today's commands and outcomes."""
    entry = measured.get("exercises", {}).get(exercise.id)
    if not entry:
        return None
    if entry["commands"] != [c.shown() for c in exercise.commands]:
        return None
    if sorted(entry["outcomes"]) != sorted(o.key for o in exercise.outcomes):
        return None
    return entry


def command_lines(exercises: Sequence[Exercise], measured: dict) -> list[list[str]]:
    """Each exercise's commands as printed: each with '# about 40 s on one CPU core' from the
    measured runs (rounded up), or, if an earlier exercise has the same run, a note to reuse it."""
    first: dict[str, int] = {}
    shown = []
    for number, exercise in enumerate(exercises, 1):
        lines = []
        for command in exercise.commands:
            text = command.shown()
            seconds = measured.get("commands", {}).get(text, {}).get("cpu_seconds", {})
            if first.setdefault(text, number) != number:
                note = f"  # exercise {first[text]}'s run: skip it if you have it"
            elif seconds:
                worst = max(seconds.values())
                step = 5 if worst < 60 else 10
                note = f"  # about {max(step, math.ceil(worst / step) * step)} s on one CPU core"
            else:
                note = ""
            lines.append(text + note)
        shown.append(lines)
    return shown


def expectation(exercise: Exercise, entry: dict | None) -> list[str]:
    if entry is None:
        return ["(not measured yet: `python exercises.py --seeds`)"]
    return [f"{o.label}: {o.range(entry['outcomes'][o.key])}" for o in exercise.outcomes]


def seeds_text(seeds: Sequence[int | None]) -> str:
    return ", ".join("the script's default" if s is None else str(s) for s in seeds)


# ---------------------------------------------------------------------------------------------
# The commands of exercises.py


def pick(exercises: Sequence[Exercise], which: str) -> list[tuple[int, Exercise]]:
    numbered = list(enumerate(exercises, 1))
    if which == "all":
        return numbered
    if not which.isdigit() or not 1 <= int(which) <= len(exercises):
        raise UserError(f"there is no exercise {which}: this stage has exercises 1 to {len(exercises)} "
                        "(python exercises.py --list shows them), or give 'all'")
    return [numbered[int(which) - 1]]


def print_list(exercises: Sequence[Exercise], stage_dir: Path) -> None:
    measured = load_measured(stage_dir)
    print(f"{stage_dir.name}: {len(exercises)} exercises. Run the commands from {stage_dir.name}/; "
          "the ranges are the lowest and highest over the measured seeds.\n")
    for (number, exercise), commands in zip(enumerate(exercises, 1), command_lines(exercises, measured),
                                            strict=True):
        entry = fresh(exercise, measured)
        print(f"{number}. {exercise.title}")
        print(textwrap.fill(exercise.change, width=96, initial_indent="   ", subsequent_indent="   ",
                            break_on_hyphens=False, break_long_words=False))
        for line in commands:
            print(f"     {line}")
        for line in expectation(exercise, entry):
            print(f"   expect {line}")
        print(f"   solution: python exercises.py --solution {number}\n")


def solve(exercises: Sequence[Exercise], which: str, stage_dir: Path, smoke: bool) -> None:
    chosen = pick(exercises, which)
    measured = load_measured(stage_dir)
    with tempfile.TemporaryDirectory(prefix="exercises-") as scratch:
        runner = Runner(stage_dir, smoke=smoke, scratch=Path(scratch) if smoke else None, echo=True)
        for number, exercise in chosen:
            entry = fresh(exercise, measured)
            print(f"=== exercise {number}: {exercise.title}\n{exercise.change}\n")
            print(f"solution: {exercise.solution}\n")
            values = runner.measure(exercise, seed=None)
            print(f"\n=== exercise {number}, measured" + (" (smoke run: the scripts' tiny --smoke "
                  "sizes, so the numbers are not comparable with the range)" if smoke else ""))
            for outcome in exercise.outcomes:
                expected = (f"expected {outcome.range(entry['outcomes'][outcome.key])}"
                            if entry else "no measured range yet")
                print(f"measured {outcome.label}: {outcome.show(values[outcome.key])}   ({expected})")
            print()


def measure_seeds(exercises: Sequence[Exercise], stage_dir: Path, only: list[str] | None,
                  count: int | None) -> Path:
    from shared.runtime import files  # imports torch: only here, not for --list

    chosen = [e for n, e in pick(exercises, "all") if not only or str(n) in only]
    measured = load_measured(stage_dir)
    known = {e.id for e in exercises}
    measured["exercises"] = {k: v for k, v in measured.get("exercises", {}).items() if k in known}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="exercises-") as scratch:
        runner = Runner(stage_dir, smoke=False, scratch=Path(scratch), echo=False)
        for exercise in chosen:
            seeds = SEEDS[:count or exercise.seeds]
            values: dict[str, list[float]] = {o.key: [] for o in exercise.outcomes}
            for seed in seeds:
                print(f"exercise {exercise.id}, seed {seeds_text([seed])}", flush=True)
                for key, value in runner.measure(exercise, seed).items():
                    values[key].append(value)
            measured["exercises"][exercise.id] = {
                "commands": [c.shown() for c in exercise.commands], "seeds": list(seeds),
                "outcomes": values}
    commands = measured.setdefault("commands", {})
    for shown, seconds in runner.cpu_seconds.items():
        commands[shown] = {"cpu_seconds": {k: round(v, 1) for k, v in seconds.items()}}
    used = {c.shown() for e in exercises for c in e.commands}
    measured["commands"] = {k: v for k, v in sorted(commands.items()) if k in used}
    measured["written_by"] = "python exercises.py --seeds (one CPU thread per run)"
    path = files.write_json(stage_dir / RESULTS, measured)
    print(f"wrote {path} ({time.perf_counter() - start:.0f} s)")
    return path


def section(exercises: Sequence[Exercise], stage_dir: Path) -> str:
    """The README's exercises section, from exercises.json; a UserError if an exercise was not
    measured with its current commands, or if the numbers contradict its solution."""
    measured = load_measured(stage_dir)
    parts = [f"Run these from `{stage_dir.name}/`. Each exercise changes one thing; predict the "
             "outcome before you run it. The ranges are the lowest and highest over the seeds "
             "that `python exercises.py --seeds` ran (the scripts' default seed, then 1, 2, ...), "
             "rounded outward, and the times are CPU seconds on one core; a faster machine is "
             "quicker, a run with another seed may land a little outside."]
    for (number, exercise), lines in zip(enumerate(exercises, 1), command_lines(exercises, measured),
                                         strict=True):
        entry = fresh(exercise, measured)
        if entry is None:
            raise UserError(f"exercise {number} ({exercise.id}) has no measured outcomes for its "
                            f"current commands in {stage_dir.name}/{RESULTS}; run "
                            f"`python exercises.py --seeds --only {number}`")
        by_seed = [dict(zip(entry["outcomes"], values, strict=True))
                   for values in zip(*entry["outcomes"].values(), strict=True)]
        if exercise.holds and not all(exercise.holds(seed) for seed in by_seed):
            raise UserError(f"exercise {number}'s solution is contradicted by its measured outcomes "
                            f"({entry['outcomes']}); rewrite the solution or the exercise")
        commands = "\n".join(lines)
        expect = "; ".join(f"{o.label} **{o.range(entry['outcomes'][o.key])}**"
                           for o in exercise.outcomes)
        each = "; ".join(f"{o.label} " + ", ".join(o.show(v, unit=False) for v in entry["outcomes"][o.key])
                         + o.unit_text() for o in exercise.outcomes)
        parts.append(
            f"**{number}. {exercise.title}**\n\n{exercise.change}\n\n```bash\n{commands}\n```\n\n"
            f"Expect: {expect} ({len(entry['seeds'])} seeds).\n\n"
            f"<details><summary>Solution {number}</summary>\n\n{exercise.solution}\n\n"
            f"Measured, seed by seed ({seeds_text(entry['seeds'])}): {each}.\n\n</details>")
    parts.append("To see a solution and run its commands, printing the outcome beside the range: "
                 "`python exercises.py --solution N` (add `--smoke` for a check in seconds at the "
                 "scripts' tiny sizes). `python exercises.py --list` prints the exercises without "
                 "the solutions.")
    return "\n\n".join(parts)


def write_readme(exercises: Sequence[Exercise], stage_dir: Path, check: bool) -> int:
    """Write the section (appending the heading and markers at the end of the README if it has
    none), or with `check` return 1 if the README differs from what would be written."""
    path = stage_dir / "README.md"
    content = section(exercises, stage_dir)
    text = path.read_text(encoding="utf-8")
    if f"<!-- begin: {SECTION} -->" not in text:
        if check:
            print(f"{path} has no exercises section; run `python exercises.py --report`", file=sys.stderr)
            return 1
        path.write_text(f"{text.rstrip()}\n\n{HEADING}\n\n<!-- begin: {SECTION} -->\n"
                        f"<!-- end: {SECTION} -->\n", encoding="utf-8")
    return reporting.write_sections(path, {SECTION: content}, check=check)


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", action="store_true",
                      help="print every exercise: what to change, the command, the range to expect")
    what.add_argument("--solution", metavar="N",
                      help="print exercise N's solution, run its commands and print the outcome "
                           "beside the expected range ('all': every exercise)")
    what.add_argument("--seeds", nargs="?", const=0, type=int, metavar="K",
                      help="run every exercise for its seeds (or K seeds) and write "
                           f"{RESULTS.as_posix()}")
    what.add_argument("--report", action="store_true",
                      help="rewrite the README's exercises section from that file")
    p.add_argument("--smoke", action="store_true",
                   help="with --solution: the scripts' --smoke sizes in a scratch folder (seconds)")
    p.add_argument("--check", action="store_true",
                   help="with --report: write nothing; exit 1 if the README is out of date")
    p.add_argument("--only", nargs="+", metavar="N", help="with --seeds: only these exercises")
    return p


def main(exercises: Sequence[Exercise], argv=None, *, stage_dir: str | Path, doc: str = __doc__):
    """The whole command line of a stage's exercises.py."""
    stage_dir = Path(stage_dir).resolve()
    args = parser(doc).parse_args(argv)
    if args.smoke and args.solution is None:
        raise UserError("--smoke goes with --solution (measured ranges come from full runs)")
    if args.check and not args.report:
        raise UserError("--check goes with --report")
    if args.only and args.seeds is None:
        raise UserError("--only goes with --seeds")
    if args.list:
        print_list(exercises, stage_dir)
    elif args.solution is not None:
        solve(exercises, args.solution, stage_dir, smoke=args.smoke)
    elif args.seeds is not None:
        if args.only:
            for n in args.only:
                pick(exercises, n)
        measure_seeds(exercises, stage_dir, args.only, args.seeds or None)
    else:
        status = write_readme(exercises, stage_dir, check=args.check)
        if status:
            raise SystemExit(status)
