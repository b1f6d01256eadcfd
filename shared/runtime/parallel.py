"""One process or many, float32 or mixed precision: what a PyTorch train script needs to run
unchanged on a laptop CPU, one GPU, or several processes under `torchrun`.

    rt = parallel.setup(cfg)              # cfg: a RuntimeConfig (shared.runtime.config); reads torchrun's
                                          # RANK / WORLD_SIZE / LOCAL_RANK
    net = rt.prepare(model, cfg.compile)  # torch.compile, then DistributedDataParallel
    with rt.autocast():                   # bfloat16 / float16 where --dtype asks for it
        loss = ...
    rt.backward(loss)
    rt.step(optimizer, model.parameters(), clip)
    if rt.main: ...write results...       # rank 0 alone writes files
    rt.close()

Without torchrun this is a single process (rank 0 of 1) and every call is a no-op wrapper.
Under `torchrun --nproc-per-node N train.py ...` each process initialises the process group
(gloo on CPU, nccl on CUDA), DDP averages the gradients across processes, and the script splits
each batch between the ranks (see shared.lm.loop.fit): the effective batch stays `--batch-size`.

Imported by every PyTorch train script (TinyLLM, SmaLLM, CodeLLM's mini-GPT, forecaster and
seq2seq, LLMind) and by the tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from shared.runtime import devices
from shared.runtime.errors import UserError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """--dtype auto: bfloat16 on a GPU that supports it, else float16; float32 elsewhere
    (a CPU gains little from autocast and loses precision)."""
    if name != "auto":
        return DTYPES[name]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


@dataclass
class Runtime:
    device: torch.device
    rank: int = 0
    world: int = 1
    dtype: torch.dtype = torch.float32
    threads: int = 1
    scaler: torch.amp.GradScaler | None = None

    @property
    def main(self) -> bool:
        """Rank 0: the process that prints progress and writes checkpoints, results, plots."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def print(self, *args, **kwargs) -> None:
        """print() on rank 0 only: N processes, one log."""
        if self.main:
            print(*args, **kwargs, flush=True)

    def describe(self) -> str:
        where = f"{self.device}, {self.threads} threads"
        if self.distributed:
            where += f" x {self.world} processes ({dist.get_backend()})"
        return where + ("" if self.dtype == torch.float32 else f", {str(self.dtype)[6:]} autocast")

    def autocast(self):
        """Mixed precision for the forward pass and the loss (float32 runs it as is)."""
        return torch.autocast(self.device.type, dtype=self.dtype,
                              enabled=self.dtype != torch.float32)

    def prepare(self, model: torch.nn.Module, compile: bool = False) -> torch.nn.Module:
        """The module to train with: compiled and/or wrapped in DDP. Keep the plain `model`
        for evaluation and for `state_dict()` (its keys carry no wrapper prefixes)."""
        if compile:
            model = torch.compile(model)
        if self.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
        return model

    def no_sync(self, module: torch.nn.Module, last: bool):
        """During gradient accumulation, all-reduce only after the last micro-batch."""
        if self.distributed and not last:
            return module.no_sync()
        return contextlib.nullcontext()

    def backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler else loss).backward()

    def step(self, optimizer, parameters, clip: float | None) -> None:
        """Unscale (float16), clip the gradient norm (not when `clip` is None or 0), step; the
        scaler skips a step whose gradients overflowed."""
        if self.scaler:
            self.scaler.unscale_(optimizer)
        if clip:
            torch.nn.utils.clip_grad_norm_(parameters, clip)
        if self.scaler:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()

    def train_step(self, net, model, optimizer, rows: torch.Tensor, loss_of, clip: float | None,
                   grad_accum: int = 1) -> float | None:
        """One optimizer step on a batch of independent samples (`rows`: their indices).

        This process takes every world-th row, cut into `grad_accum` micro-batches;
        `loss_of(net, idx)` returns the summed loss of samples `idx`. Dividing by the whole
        batch's size (times the processes, whose gradients DDP averages) gives exactly the
        gradient of one process on the whole batch. Returns the batch's mean loss, or None
        (and no step, on every process alike) for a batch too small to share out."""
        if len(rows) < self.world * grad_accum:
            return None
        parts = rows[self.rank :: self.world].tensor_split(grad_accum)
        optimizer.zero_grad(set_to_none=True)
        share = 0.0
        for m, idx in enumerate(parts):
            with self.no_sync(net, last=m == len(parts) - 1):
                with self.autocast():
                    loss = loss_of(net, idx) / len(rows)
                self.backward(loss * self.world)
            share += loss.item()
        self.step(optimizer, model.parameters(), clip)
        return self.sum(share)

    def sum(self, value: float) -> float:
        """The sum of `value` over the processes (each process's share of a mean, for logs)."""
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.float64,
                         device=self.device if self.device.type == "cuda" else "cpu")
        dist.all_reduce(t)
        return float(t.item())

    def agree(self, value: float) -> float:
        """Rank 0's `value` on every process: one clock for a time budget, so that every process
        stops after the same step (their own clocks differ by a little)."""
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.float64,
                         device=self.device if self.device.type == "cuda" else "cpu")
        dist.broadcast(t, src=0)
        return float(t.item())

    def mean(self, value: float) -> float:
        return self.sum(value) / self.world

    def gather(self, obj):
        """Every process's `obj`, in rank order (a list of one when not distributed).

        `obj` is tensors nested in lists and tuples (None and plain numbers allowed, e.g. the
        recurrent states of shared.lm.loop.fit), with the same layout and shapes on every process.
        The tensors travel with `dist.all_gather`, not as the serialized Python objects of
        `all_gather_object`, which the receiving process would have to unserialize."""
        if not self.distributed:
            return [obj]
        tensors: list[torch.Tensor] = []
        layout = _flatten(obj, tensors)
        where = self.device if self.device.type == "cuda" else torch.device("cpu")  # nccl / gloo
        # The same layout everywhere, or the all_gathers below would pair the wrong tensors.
        digest = hashlib.blake2b(repr(layout).encode(), digest_size=7).digest()
        signature = torch.tensor([int.from_bytes(digest, "big")], dtype=torch.int64, device=where)
        signatures = [torch.empty_like(signature) for _ in range(self.world)]
        dist.all_gather(signatures, signature)
        if any(not torch.equal(s, signature) for s in signatures):
            raise RuntimeError("gather: the processes hold differently shaped objects")
        per_rank: list[list[torch.Tensor]] = [[] for _ in range(self.world)]
        for tensor in tensors:
            parts = [torch.empty_like(tensor, device=where) for _ in range(self.world)]
            dist.all_gather(parts, tensor.detach().to(where).contiguous())
            for rank, part in enumerate(parts):
                per_rank[rank].append(part.to(tensor.device))
        return [_unflatten(layout, iter(got)) for got in per_rank]

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


def _flatten(obj, tensors: list):
    """`obj`'s layout, with its tensors moved into `tensors` (in order) and described by their
    shape and dtype."""
    if isinstance(obj, torch.Tensor):
        tensors.append(obj)
        return ("tensor", tuple(obj.shape), str(obj.dtype))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_flatten(item, tensors) for item in obj])
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return ("value", obj)
    raise TypeError(f"gather: cannot send a {type(obj).__name__}; send tensors in lists/tuples")


def _unflatten(layout, tensors):
    kind, content = layout[0], layout[1]
    if kind == "tensor":
        return next(tensors)
    if kind == "value":
        return content
    items = [_unflatten(item, tensors) for item in content]
    return tuple(items) if kind == "tuple" else items


def setup(cfg) -> Runtime:
    """The runtime for this process from the stage's settings (`cfg` has RuntimeConfig's fields)
    and torchrun's environment variables."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if cfg.grad_accum < 1:
        raise UserError(f"--grad-accum must be at least 1, got {cfg.grad_accum}")
    if getattr(cfg, "time_budget", 0.0) < 0:  # the language models' --time-budget
        raise UserError(f"--time-budget must be 0 (no budget) or a number of seconds, got {cfg.time_budget}")
    device = devices.pick_device(cfg.device)
    if device.type == "cuda" and world > 1:
        if torch.cuda.device_count() < int(os.environ.get("LOCAL_WORLD_SIZE", world)):
            raise UserError(f"torchrun started more processes per node than the "
                            f"{torch.cuda.device_count()} visible GPUs; lower --nproc-per-node")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    # Processes on one machine share its cores; oversubscribing them slows everyone down.
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    share = max(1, (os.cpu_count() or 1) // per_node) if world > 1 else None
    threads = devices.set_threads(cfg.threads or share)
    dtype = resolve_dtype(cfg.dtype, device)
    if dtype != torch.float32 and device.type == "mps":
        raise UserError(f"--dtype {cfg.dtype} is not supported on mps here; use --dtype float32")
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 else None
    return Runtime(device=device, rank=rank, world=world, dtype=dtype, threads=threads,
                   scaler=scaler)
