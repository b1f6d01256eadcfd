"""Synthetic daily prices whose best possible forecast is known: the ground truth for testing
the claims of stage 3 vs 4 (CodeLLM/compare/claims.py).

Each series is a log-return process r_t = signal_t + e_t, with e_t Gaussian noise of known
standard deviation `noise`, and close_t = close_{t-1} * exp(r_t). The signal is a function of
the past (and of the calendar position t), so the best forecast of r_t from the days before it
is signal_t, and its RMSE is `noise`: no model can do better on average.

    lag       signal_t = phi * r_{t-L}                        (memory at one distance L)
    seasonal  signal_t = amplitude * sin(2 pi t / period)     (a cycle of `period` days)
    mix       signal_t = both added                           (a cycle plus memory at L)

    from shared.prices import synthetic
    task = synthetic.Task(kind="lag", lag=20)
    prices = synthetic.prices(task)           # OHLCV indexed by business days, like market's
    synthetic.write_csv(task, "lag20.csv")    # a file for train.py --csv
    r, best = synthetic.returns(task)         # the returns and the best forecast of each

Open, high, low and close are equal and volume is constant: the windows still carry every
indicator of shared.prices.features, computed from the close, exactly as for real prices.
Imported by CodeLLM/compare/claims.py and the tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shared.runtime.errors import UserError

KINDS = ("lag", "seasonal", "mix")
LAST_DAY = "2019-12-31"  # series end here, so no date lies in the future


@dataclass(frozen=True)
class Task:
    kind: str = "lag"
    lag: int = 20  # L: the day whose return the signal repeats (lag and mix)
    phi: float = 0.7  # how much of r_{t-L} comes back; |phi| < 1 keeps the series stationary
    period: int = 20  # days per cycle (seasonal and mix)
    amplitude: float = 0.014  # the cycle's peak daily log return
    noise: float = 0.01  # std of e_t: the best possible RMSE
    days: int = 3000
    seed: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise UserError(f"synthetic task {self.kind!r}: choose one of {', '.join(KINDS)}")
        if self.lag < 1 or self.period < 2 or self.noise <= 0 or not abs(self.phi) < 1:
            raise UserError(f"synthetic task: need lag >= 1, period >= 2, noise > 0 and |phi| < 1 "
                            f"(got lag {self.lag}, period {self.period}, noise {self.noise}, phi {self.phi})")
        if self.days < 4 * max(self.lag, self.period):
            raise UserError(f"synthetic task: {self.days} days are too few for lag {self.lag} and "
                            f"period {self.period}")

    @property
    def name(self) -> str:
        parts = {"lag": f"lag{self.lag}", "seasonal": f"season{self.period}",
                 "mix": f"mix-season{self.period}-lag{self.lag}"}
        return parts[self.kind]

    def describe(self) -> dict:
        return {**asdict(self), "name": self.name, "optimal_rmse": self.noise}


def returns(task: Task) -> tuple[np.ndarray, np.ndarray]:
    """(r, best): the daily log returns and the best forecast of each from the days before it.
    A burn-in of 10 lags is generated and dropped, so the series starts stationary."""
    rng = np.random.default_rng(task.seed)
    burn = 10 * task.lag if task.kind != "seasonal" else 0
    n = task.days + burn
    t = np.arange(n) - burn  # calendar position; the kept series starts at t = 0
    season = task.amplitude * np.sin(2 * np.pi * t / task.period) if task.kind != "lag" else np.zeros(n)
    noise = rng.normal(0.0, task.noise, n)
    r, best = np.zeros(n), season.copy()
    for i in range(n):
        if task.kind != "seasonal" and i >= task.lag:
            best[i] += task.phi * r[i - task.lag]
        r[i] = best[i] + noise[i]
    return r[burn:], best[burn:]


def prices(task: Task, start_price: float = 100.0) -> pd.DataFrame:
    """Daily OHLCV (open = high = low = close, volume constant) ending on LAST_DAY; the first
    day's return is dropped, so close_t = close_{t-1} * exp(r_t) from the second row on."""
    r, _ = returns(task)
    close = start_price * np.exp(np.cumsum(r))
    dates = pd.bdate_range(end=LAST_DAY, periods=task.days, name="date")
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close,
                         "volume": 1e6}, index=dates)


def write_csv(task: Task, path: str | Path) -> Path:
    """The series as a Date,Open,High,Low,Close,Volume file for any stage's --csv."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = prices(task).rename_axis("Date").rename(columns=str.capitalize)
    frame.to_csv(path, float_format="%.10g")
    return path


def best_forecast(task: Task, dates: pd.DatetimeIndex) -> np.ndarray:
    """The best forecast of the log return on each of `dates` (days of the series)."""
    r, best = returns(task)
    index = pd.bdate_range(end=LAST_DAY, periods=task.days)
    where = index.get_indexer(dates)
    if (where < 0).any():
        raise UserError("some dates are not days of this synthetic series")
    return best[where]
