"""Multi-process training through torch.distributed, as launched by ``torchrun``.

genlab adds no scheme of its own: ``torchrun --nproc_per_node N`` sets RANK/WORLD_SIZE/LOCAL_RANK, we call
``init_process_group`` (gloo on CPU, NCCL on CUDA), wrap the model in ``DistributedDataParallel`` and shard data with
``DistributedSampler``. Rank 0 alone logs, samples and saves. Trainers that are not wrapped in DDP (``wrap_ddp =
False``: several optimisers) start from rank 0's broadcast weights and average their gradients with one all-reduce per
dtype (``Trainer.average_gradients``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def dist_info_from_env() -> DistInfo:
    return DistInfo(rank=int(os.environ.get("RANK", 0)), local_rank=int(os.environ.get("LOCAL_RANK", 0)),
                    world_size=int(os.environ.get("WORLD_SIZE", 1)))


def init_distributed(device_type: str) -> DistInfo:
    """Join the process group torchrun set up (no-op for a single process)."""
    info = dist_info_from_env()
    if info.enabled and not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(info.local_rank % torch.cuda.device_count())
        dist.init_process_group(backend=backend)
    return info


def shutdown_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_(tensor: torch.Tensor, op: str = "sum") -> torch.Tensor:
    """In-place all-reduce when a process group is running, else unchanged."""
    if dist.is_available() and dist.is_initialized():
        reduce_op = {"sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX}[op]
        if dist.get_backend() == "nccl" and not tensor.is_cuda:  # NCCL only reduces GPU tensors
            on_gpu = tensor.cuda()
            dist.all_reduce(on_gpu, op=reduce_op)
            tensor.copy_(on_gpu.cpu())
        else:
            dist.all_reduce(tensor, op=reduce_op)
    return tensor


def broadcast_(tensor: torch.Tensor, src: int = 0) -> torch.Tensor:
    """In-place broadcast of rank ``src``'s ``tensor`` to every rank when a process group is running."""
    if dist.is_available() and dist.is_initialized():
        if dist.get_backend() == "nccl" and not tensor.is_cuda:
            on_gpu = tensor.cuda()
            dist.broadcast(on_gpu, src=src)
            tensor.copy_(on_gpu.cpu())
        else:
            dist.broadcast(tensor, src=src)
    return tensor


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def all_gather_objects(obj):
    """Gather a picklable object from every rank (the list on every rank); [obj] for one process."""
    if dist.is_available() and dist.is_initialized():
        out = [None] * dist.get_world_size()
        dist.all_gather_object(out, obj)
        return out
    return [obj]
