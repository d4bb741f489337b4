"""World Models on CarRacing-v3, every stage in one run on this 2-core machine, each stage cached so a stopped run
continues: collect -> VAE -> encode -> MDN-RNN -> controllers (V only / V+M real / V+M dream / V+M untrained M) ->
real scores on fixed unseen track seeds, plus throughput (env steps/s with and without V+M, dream steps/s for a
population) and rollout-worker scaling (1 vs 2 processes, Dask's overhead per task).

    flock /tmp/genlab-bench.lock .venv/bin/python benchmarks/worldmodels_carracing.py            # the session budget
    .venv/bin/python benchmarks/worldmodels_carracing.py --budget issue                          # the issue's budget

Budgets are in the table and the JSON (CPU-minutes: user + system time of this process and its workers). The cache
(shards, runs) is in runs/bench/worldmodels (git-ignored); the results in benchmarks/results/worldmodels_carracing.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_results  # noqa: E402

BUDGETS = {
    # this session: at most ~14 minutes of wall-clock for everything
    "session": dict(episodes=30, steps=250, workers=2, vae_epochs=1, rnn_epochs=10, rnn_batch=16, dream_pop=32,
                    dream_trials=2, dream_gens=30, real_pop=6, real_trials=1, real_gens=2, eval_episodes=8,
                    eval_steps=250, temperature=1.15),
    # a check that the script runs end to end (a minute or two)
    "smoke": dict(episodes=3, steps=40, workers=2, vae_epochs=1, rnn_epochs=1, rnn_batch=2, dream_pop=4, dream_trials=2,
                  dream_gens=2, real_pop=2, real_trials=1, real_gens=1, eval_episodes=2, eval_steps=40,
                  temperature=1.15),
    # the stage budgets (about 5 hours here, not 100 minutes: see the README's World Models benchmark)
    "issue": dict(episodes=200, steps=1000, workers=2, vae_epochs=2, rnn_epochs=20, rnn_batch=32, dream_pop=64, dream_trials=8,
                  dream_gens=200, real_pop=16, real_trials=2, real_gens=10, eval_episodes=100, eval_steps=1000,
                  temperature=1.15),
}
ANCHORS = {"paper V only (v0, 100 x 1000 steps)": "632 ± 251", "paper V + hidden layer": "788 ± 141",
           "paper full V+M": "906 ± 21", "ctallec PyTorch V+M": "860 ± 120",
           "ctallec V+M untrained MDN-RNN": "870 ± 120", "Foster's readers": "-50 ... 10", "solved": "900"}


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Stages:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "stages.json"
        self.done = json.loads(self.path.read_text()) if self.path.exists() else {}

    def run(self, name: str, fn):
        if name in self.done:
            print(f"[cached] {name}: {self.done[name].get('cpu_min', 0):.2f} CPU-min", flush=True)
            return self.done[name]
        print(f"[stage] {name} ...", flush=True)
        t0, c0 = time.time(), cpu_seconds()
        result = fn() or {}
        result = {**result, "wall_s": round(time.time() - t0, 1), "cpu_min": round((cpu_seconds() - c0) / 60, 2)}
        self.done[name] = result
        self.path.write_text(json.dumps(self.done, indent=2))
        print(f"[done] {name}: {result['wall_s']}s wall, {result['cpu_min']} CPU-min", flush=True)
        return result


def throughput(root: Path, b: dict) -> dict:
    """env steps/s (random policy; V+M controller), dream steps/s for 64 agents, 1 vs 2 workers, Dask overhead."""
    import numpy as np
    import torch

    from genlab.worldmodels.dream import dream_rollout
    from genlab.worldmodels.models import ControllerConfig
    from genlab.worldmodels.pipeline import load_rnn
    from genlab.worldmodels.rollout import Executor, Task, run_episode

    out = {}
    n = 200
    r = run_episode(Task(seed=7, max_steps=n))
    out["env_steps_per_s_random"] = round(r.steps / r.seconds, 1)
    cfg = ControllerConfig(latent_dim=32, hidden_size=256)
    params = np.random.default_rng(0).normal(0, 0.1, cfg.num_parameters).astype(np.float32)
    r = run_episode(Task(seed=7, max_steps=n, params=params, vae=str(root / "vae"), rnn=str(root / "rnn")))
    out["env_steps_per_s_with_vae_rnn"] = round(r.steps / r.seconds, 1)
    rnn = load_rnn(root / "rnn")
    torch.set_num_threads(1)
    p, horizon = 64, 500
    z0 = torch.randn(p, 32)
    pp = torch.randn(p, cfg.num_parameters) * 0.1
    t0 = time.perf_counter()
    dream_rollout(rnn, pp, z0, horizon=horizon, temperature=1.15, seeds=list(range(p)), run_to_horizon=True)
    dt = time.perf_counter() - t0
    torch.set_num_threads(os.cpu_count() or 1)
    out["dream_ms_per_batched_step_64_agents_1_thread"] = round(1000 * dt / horizon, 3)
    out["dream_agent_steps_per_s_1_thread"] = round(p * horizon / dt, 0)
    out["real_ms_per_agent_step_with_vae_rnn"] = round(1000 / out["env_steps_per_s_with_vae_rnn"], 2)
    out["dream_speedup_per_agent_step"] = round(out["dream_agent_steps_per_s_1_thread"] /
                                                out["env_steps_per_s_with_vae_rnn"], 1)
    tasks = [Task(seed=100 + i, max_steps=150) for i in range(4)]
    for w in (1, 2):
        with Executor(w) as ex:
            ex.run([Task(seed=99, max_steps=1)] * w)  # start the workers (spawn + imports) outside the timing
            t0 = time.perf_counter()
            ex.run(tasks)
            out[f"collect_steps_per_s_{w}_worker"] = round(600 / (time.perf_counter() - t0), 1)
    out["worker_scaling_2_vs_1"] = round(out["collect_steps_per_s_2_worker"] / out["collect_steps_per_s_1_worker"], 2)
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Executor(scheduler=cluster.scheduler_address) as ex:
        ex.run([Task(seed=99, max_steps=1)] * 4)
        tiny = [Task(seed=200 + i, max_steps=1) for i in range(16)]
        t0 = time.perf_counter()
        ex.run(tiny)
        dask_s = (time.perf_counter() - t0) / 16
    with Executor(2) as ex:
        ex.run([Task(seed=99, max_steps=1)] * 2)
        t0 = time.perf_counter()
        ex.run(tiny)
        pool_s = (time.perf_counter() - t0) / 16
    out["dask_s_per_1_step_task_2_workers"] = round(dask_s, 3)
    out["pool_s_per_1_step_task_2_workers"] = round(pool_s, 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", choices=sorted(BUDGETS), default="session")
    ap.add_argument("--cache", default="runs/bench/worldmodels", help="stage outputs (a stopped run continues)")
    ap.add_argument("--out", default="benchmarks/results/worldmodels_carracing.json")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--extra-real", nargs=2, type=int, metavar=("POP", "GENS"), default=None,
                    help="also run V-only and V+M real CMA-ES rows with this population and generations (1 trial; "
                         "the score-vs-budget curve), on the same cached V and M")
    ap.add_argument("--extra-dream", type=int, metavar="GENS", default=None,
                    help="also run a V+M dream row with this many generations (the budget's population/trials)")
    ap.add_argument("--workers", type=int, default=None, help="rollout processes (default: the budget's); the "
                                                               "cached stages keep the count they ran with")
    ap.add_argument("--throughput-first", action="store_true", help="measure throughput before the controller rows")
    ap.add_argument("--deadline", default=None, help="HH:MM UTC: skip the later stages that would end after it "
                                                      "(default for --budget session: 01:33, this session's limit)")
    args = ap.parse_args()
    b = dict(BUDGETS[args.budget])
    if args.workers:
        b["workers"] = args.workers
    if args.deadline is None and args.budget == "session":
        args.deadline = "01:33"
    root = Path(args.cache) / args.budget
    st = Stages(root)
    from genlab import worldmodels as wm
    from genlab.core.engine import TrainConfig
    from genlab.core.config import from_dict
    from genlab.latent import VAEConfig
    from genlab.worldmodels.pipeline import RNN_TRAIN, VAE_DEFAULTS, VAE_TRAIN

    common = dict(workers=b["workers"], show_progress=True)
    collect = st.run("collect", lambda: wm.collect(root / "data", episodes=b["episodes"], seed=0,
                                                   max_episode_steps=b["steps"], workers=b["workers"]))

    def vae():
        r = wm.train_vae(from_dict(VAEConfig, VAE_DEFAULTS), wm.FramesDataConfig(data=str(root / "data")),
                         TrainConfig(**{**VAE_TRAIN, "epochs": b["vae_epochs"], "tensorboard": False,
                                        "sample_every": 0}), out=root / "vae",
                         resume=(root / "vae" / "checkpoints").exists())
        return {"steps": r.step, "loss": r.metrics.get("train/loss")}

    st.run("vae", vae)
    st.run("encode", lambda: wm.encode(root / "data", vae=root / "vae", out=root / "z"))

    def rnn():
        r = wm.train_rnn(None, wm.SequenceDataConfig(data=str(root / "z"), seq_len=32),
                         TrainConfig(**{**RNN_TRAIN, "epochs": b["rnn_epochs"], "batch_size": b["rnn_batch"],
                                        "tensorboard": False}),
                         out=root / "rnn", resume=(root / "rnn" / "checkpoints").exists())
        return {"steps": r.step, "loss": r.metrics.get("train/loss"), "z_nll": r.metrics.get("train/z_nll"),
                "reward_bce": r.metrics.get("train/reward_bce")}

    st.run("rnn", rnn)

    def search(name, mode, inputs, rnn_dir, pop, trials, gens):
        def fn():
            cfg = wm.SearchConfig(mode=mode, inputs=inputs, population=pop, trials=trials, generations=gens,
                                  max_episode_steps=b["steps"], temperature=b["temperature"], seed=1000)
            resume = (root / name / "search.json").exists()
            r = wm.train_controller(None if resume else cfg, vae=None if resume else root / "vae",
                                    rnn=None if resume else rnn_dir, out=root / name, resume=resume,
                                    **common)
            return {"generations": r["generation"], "rollouts": r["evaluations"], "best_train_score": r["best_score"],
                    "curve": [[h["generation"], round(h["best"], 1), round(h["mean"], 1), round(h["worst"], 1)]
                              for h in r["history"]], "mode": mode, "inputs": inputs,
                    "population": pop, "trials": trials}
        return st.run(name, fn)

    ev = dict(episodes=b["eval_episodes"], max_episode_steps=b["eval_steps"], workers=b["workers"])
    deadline = _deadline(args.deadline)
    skipped: list[str] = []

    def fits(name: str, estimate_s: float) -> bool:
        """Run a later stage only if it fits before --deadline (cached stages always 'fit')."""
        if name in st.done or deadline is None or time.time() + estimate_s < deadline:
            return True
        skipped.append(name)
        print(f"[skip] {name}: would not finish before the deadline ({estimate_s:.0f}s estimated)", flush=True)
        return False

    table: list[dict] = []
    shared = sum(st.done[s]["cpu_min"] for s in ("collect", "vae", "encode"))
    eval_s = b["eval_episodes"] * b["eval_steps"] / 40  # ~40 env steps/s with V+M on 2 loaded cores

    def report() -> None:
        protocol = (f"CarRacing-v3 (the paper: v0), mean ± std over {b['eval_episodes']} episodes of up to "
                    f"{b['eval_steps']} steps on track seeds 1000000.. (never used in training); the paper: 100 "
                    f"episodes of 1000 steps, so these numbers are not comparable to its anchors")
        write_results(args.out, {"benchmark": "worldmodels_carracing", "budget": args.budget, "budgets": b,
                                 "protocol": protocol, "table": table, "stages": st.done,
                                 "throughput": st.done.get("throughput", {}), "skipped_for_time": skipped,
                                 "anchors_not_comparable": ANCHORS, "cache": str(root)})
        print()
        print(f"World Models on CarRacing-v3, budget '{args.budget}': {protocol}")
        print(f"{'row':34s} {'score':>16s} {'CPU-min':>8s}  budget")
        for r in table:
            print(f"{r['row']:34s} {r['mean']:8.1f} ± {r['std']:5.1f} {r['cpu_min']:8.2f}  {r['budget']}")
        for k, v in st.done.get("throughput", {}).items():
            print(f"  {k}: {v}")
        if skipped:
            print(f"not run (out of time): {', '.join(skipped)}")

    if fits("eval_random", eval_s * 0.7):
        rand = st.run("eval_random", lambda: wm.evaluate(None, **ev, out=root / "eval_random.json"))
        table.append({"row": "random policy", "mean": rand["mean"], "std": rand["std"], "cpu_min": rand["cpu_min"],
                      "budget": "none (evaluation only)"})
        report()
    if fits("eval_zero", eval_s):  # the CMA-ES start (zero weights: straight ahead at half gas), a control
        import numpy as np

        from genlab.worldmodels.controller import score_policy

        zero = st.run("eval_zero", lambda: {"policy": "controller with zero weights (the CMA-ES start): steer 0, "
                                                      "gas 0.5, brake 0",
                                            **score_policy(np.zeros(867, np.float32), vae=str(root / "vae"),
                                                           rnn=str(root / "rnn"), **ev)})
        table.append({"row": "zero controller (CMA-ES start)", "mean": zero["mean"], "std": zero["std"],
                      "cpu_min": zero["cpu_min"], "budget": "none (evaluation only)"})
    real_s = b["real_pop"] * b["real_trials"] * b["real_gens"] * b["steps"] / 40 + 20
    dream_s = b["dream_gens"] * b["dream_pop"] * b["dream_trials"] * b["steps"] / 4000 + 20
    rows = [("V+M dream", "ctrl_dream", "dream", "zh", root / "rnn", b["dream_pop"], b["dream_trials"],
             b["dream_gens"], dream_s),
            ("V only (real CMA-ES)", "ctrl_vonly", "real", "z", None, b["real_pop"], b["real_trials"], b["real_gens"],
             real_s),
            ("V+M real (tiny)", "ctrl_real", "real", "zh", root / "rnn", b["real_pop"], b["real_trials"],
             b["real_gens"], real_s),
            ("V+M untrained M (real CMA-ES)", "ctrl_untrained", "real", "zh", "untrained", b["real_pop"],
             b["real_trials"], b["real_gens"], real_s)]
    if args.extra_real:
        pop, gens = args.extra_real
        est = pop * gens * b["steps"] / 40 + 20
        rows += [(f"V only (real CMA-ES, {pop} x 1 x {gens})", f"ctrl_vonly_p{pop}g{gens}", "real", "z", None, pop, 1,
                  gens, est),
                 (f"V+M real (CMA-ES, {pop} x 1 x {gens})", f"ctrl_real_p{pop}g{gens}", "real", "zh", root / "rnn",
                  pop, 1, gens, est),
                 (f"V+M untrained M (real CMA-ES, {pop} x 1 x {gens})", f"ctrl_untrained_p{pop}g{gens}", "real", "zh",
                  "untrained", pop, 1, gens, est)]
    if args.extra_dream:
        g = args.extra_dream
        rows.append((f"V+M dream ({g} gens)", f"ctrl_dream_g{g}", "dream", "zh", root / "rnn", b["dream_pop"],
                     b["dream_trials"], g, g * b["dream_pop"] * b["dream_trials"] * b["steps"] / 4000 + 20))
    if args.throughput_first and not args.skip_throughput and fits("throughput", 150):
        st.run("throughput", lambda: throughput(root, b))
    for label, name, mode, inputs, rnn_dir, pop, trials, gens, est in rows:
        if name in st.done and f"eval_{name}" not in st.done and not fits(f"eval_{name}", eval_s):
            continue
        if not fits(name, est + eval_s):
            continue
        srch = search(name, mode, inputs, rnn_dir, pop, trials, gens)
        e = st.run(f"eval_{name}", lambda n=name: wm.evaluate(root / n, **ev))
        uses_rnn = name.startswith(("ctrl_real", "ctrl_dream"))
        cpu = shared + (st.done["rnn"]["cpu_min"] if uses_rnn else 0) + srch["cpu_min"] + e["cpu_min"]
        table.append({"row": label, "mean": e["mean"], "std": e["std"], "cpu_min": round(cpu, 2),
                      "search_cpu_min": srch["cpu_min"], "best_train_score": srch["best_train_score"],
                      "budget": f"CMA-ES {srch['population']} x {srch['trials']} x {srch['generations']} gens "
                                f"({srch['rollouts']} {'dream' if srch['mode'] == 'dream' else 'real'} rollouts)"})
        report()
    if not args.skip_throughput and fits("throughput", 150):
        st.run("throughput", lambda: throughput(root, b))
    report()
    return 0


def _deadline(text: str | None) -> float | None:
    """'HH:MM' (UTC, today) -> epoch seconds; None: no deadline."""
    if not text:
        return None
    import datetime as dt

    h, m = map(int, text.split(":"))
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(hour=h, minute=m, second=0, microsecond=0).timestamp()


if __name__ == "__main__":
    sys.exit(main())
