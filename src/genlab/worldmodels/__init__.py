"""World Models (Ha & Schmidhuber 2018; Foster, "Generative Deep Learning", ch. 8) on gymnasium's CarRacing-v3.

V: the latent family's conv VAE (64x64x3 frames -> z of 32); M: an MDN-RNN (LSTM 256, 5 Gaussians per z dimension,
reward and done heads); C: a linear controller on [z, h] found by CMA-ES, in the real game (parallel workers, or Dask
across machines) or in M's dream (the whole population as one batched tensor computation).

    >>> from genlab import worldmodels as wm
    >>> wm.collect("data/car", episodes=200, workers=2, max_episode_steps=300)
    >>> wm.train_vae(data_config=wm.FramesDataConfig(data="data/car"), out="runs/wm/vae")
    >>> wm.encode("data/car", vae="runs/wm/vae", out="data/car-z")
    >>> wm.train_rnn(data_config=wm.SequenceDataConfig(data="data/car-z"), out="runs/wm/rnn")
    >>> wm.train_controller(wm.SearchConfig(mode="dream"), vae="runs/wm/vae", rnn="runs/wm/rnn", out="runs/wm/c")
    >>> wm.evaluate("runs/wm/c", episodes=100)

gymnasium, Box2D, cma and dask load only inside the functions that need them (``pip install 'genlab[worldmodels]'``).
"""

import importlib

_LAZY = {
    **{n: ".pipeline" for n in ("collect", "train_vae", "encode", "train_rnn", "untrained_rnn", "load_vae",
                                "load_rnn")},
    **{n: ".data" for n in ("FramesDataConfig", "SequenceDataConfig", "SequenceDataset", "read_shard", "write_shard",
                            "load_shards")},
    **{n: ".models" for n in ("MDNRNN", "MDNRNNConfig", "Controller", "ControllerConfig", "batched_actions")},
    **{n: ".losses" for n in ("mdn_nll", "mdn_log_prob", "mdn_sample", "bernoulli_bce", "mixture_weights")},
    **{n: ".controller" for n in ("SearchConfig", "train_controller", "evaluate", "score_policy", "run_search")},
    **{n: ".cmaes" for n in ("CMAES",)},
    **{n: ".dream" for n in ("dream_rollout",)},
    **{n: ".rollout" for n in ("Task", "run_episode", "run_tasks", "Executor")},
    **{n: ".show" for n in ("play", "dream")},
    **{n: ".env" for n in ("make_env", "process_frame", "ENV_ID", "EVAL_SEED_BASE")},
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'genlab.worldmodels' has no attribute {name!r}")


__all__ = list(_LAZY)
