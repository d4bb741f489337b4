"""Checkpoint writer for the ``kill -9`` test in test_checkpoint.py.

    python ckpt_writer_script.py RUN_DIR [NUMEL]

Imports torch, genlab and the toy models once, then serves the test over stdin/stdout: for every ``go`` line it forks
a writer process, prints its pid, waits for it to die and prints ``dead EXITCODE`` (``dead -9`` after SIGKILL). The
writer continues from the newest complete checkpoint: for step = latest + 1, latest + 2, ... it fills a Blob's weight
with ``step`` and calls ``save_checkpoint(RUN_DIR, step, model, {"step": step, "payload": full(step)}, keep_last=2)``
until it is killed. Forking from an already-imported parent makes each restart take milliseconds instead of a fresh
interpreter's seconds of ``import torch``; the writer is still a separate process that dies by SIGKILL mid-work.
The parent runs no tensor code before forking, so the child starts with clean thread-pool state.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import torch

from genlab.core.checkpoint import list_checkpoints, save_checkpoint
from toy import Blob, BlobConfig

PAYLOAD = 500_000
MAX_SECONDS = 30  # a writer nobody kills (the test failed half-way) stops by itself


def write_forever(run_dir: str, numel: int) -> None:
    torch.set_num_threads(1)
    found = list_checkpoints(run_dir)
    step = found[-1][0] + 1 if found else 1
    model = Blob(BlobConfig(numel=numel))
    deadline = time.monotonic() + MAX_SECONDS
    while time.monotonic() < deadline:
        with torch.no_grad():
            model.weight.fill_(float(step))
        save_checkpoint(run_dir, step, model, {"step": step, "payload": torch.full((PAYLOAD,), float(step))},
                        keep_last=2)
        step += 1


def main() -> None:
    run_dir = sys.argv[1]
    numel = int(sys.argv[2]) if len(sys.argv) > 2 else 3_000_000
    for line in sys.stdin:
        if line.strip() != "go":
            break
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                write_forever(run_dir, numel)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"dead {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    main()
