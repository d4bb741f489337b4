"""The tour's World Models section (Foster ch. 8): random CarRacing rollouts, the VAE's reconstructions and code,
the MDN-RNN's predicted frames, a controller trained by CMA-ES in the dream and scored in the real game, and videos
of it playing and dreaming. At the quick budget every stage is tiny: the pictures show the pipeline, not a driver."""

from __future__ import annotations

import json

from ..core.tourkit import Figure, TourContext, TourSection


def run(ctx: TourContext) -> list[Figure]:
    if ctx.toy:
        n = dict(episodes=2, steps=30, vae=["--max-steps", "4", "--batch-size", "16", "--conv-channels", "4", "4", "4",
                                            "4"], rnn=["--max-steps", "4", "--seq-len", "8", "--batch-size", "2",
                                                       "--hidden-size", "16"],
                 pop=3, gens=1, eval_eps=1, play=10)
    elif ctx.budget == "full":
        n = dict(episodes=40, steps=300, vae=["--epochs", "1"], rnn=["--epochs", "10", "--batch-size", "16"],
                 pop=32, gens=30, eval_eps=10, play=300)
    else:
        n = dict(episodes=3, steps=80, vae=["--epochs", "1", "--batch-size", "32", "--conv-channels", "16", "32",
                                            "64", "128"],
                 rnn=["--max-steps", "30", "--seq-len", "16", "--batch-size", "4", "--hidden-size", "64"],
                 pop=16, gens=4, eval_eps=2, play=80)
    quiet = ["--no-progress"]
    engine = ["--no-tensorboard", "--no-progress", "--sample-every", "0"]
    data, z = ctx.path("data"), ctx.path("z")
    vae, rnn, ctrl = ctx.path("vae"), ctx.path("rnn"), ctx.path("dream")
    c_collect = ctx.genlab("worldmodels", "collect", "--episodes", n["episodes"], "--max-episode-steps", n["steps"],
                           "--seed", ctx.seed, "--out", data, *quiet)
    c_vae = ctx.genlab("worldmodels", "train-vae", "--data", data, *n["vae"], "--seed", ctx.seed, *engine,
                       "--out", vae)
    c_encode = ctx.genlab("worldmodels", "encode", "--data", data, "--vae", vae, "--out", z, *quiet)
    c_rnn = ctx.genlab("worldmodels", "train-rnn", "--data", z, *n["rnn"], "--seed", ctx.seed, *engine, "--out", rnn)
    c_ctrl = ctx.genlab("worldmodels", "train-controller", "--mode", "dream", "--vae", vae, "--rnn", rnn,
                        "--population", n["pop"], "--trials", "2", "--generations", n["gens"],
                        "--max-episode-steps", n["steps"], "--seed", ctx.seed, "--out", ctrl, *quiet)
    c_eval = ctx.genlab("worldmodels", "evaluate", ctrl, "--episodes", n["eval_eps"], "--max-episode-steps",
                        n["steps"], *quiet)
    ev = json.loads((ctrl / "eval.json").read_text())
    score = {"real score": f"{ev['mean']:.1f} ± {ev['std']:.1f} ({ev['env']}, {ev['episodes']} episode(s) of up to "
                           f"{ev['max_episode_steps']} steps on unseen track seeds {ev['seeds']}; not comparable "
                           f"to the paper's 100 x 1000-step protocol)", "measured by": c_eval}
    c_play = ctx.genlab("worldmodels", "play", ctrl, "--max-episode-steps", n["play"], "--every", "2",
                        "--output", ctx.path("play.gif"))
    c_dream = ctx.genlab("worldmodels", "dream", ctrl, "--steps", n["play"], "--temperature", "1.15",
                         "--output", ctx.path("dream.gif"))
    search = json.loads((ctrl / "search.json").read_text())
    last = search["history"][-1]
    recon = sorted((vae / "samples").glob("*.png"))[-1]
    pred = sorted((rnn / "samples").glob("*.png"))[-1]
    return [
        Figure(data / "figures" / "rollout.png", "Random rollouts",
               "CarRacing frames (64x64, dashboard cropped) of a random policy whose action is held for 5 frames, "
               "with the action and reward of each frame: the data every model of the chapter learns from.",
               c_collect),
        Figure(recon, "V: VAE reconstructions",
               "Top: real frames; bottom: the conv VAE's reconstructions through its 32-D code (the latent "
               "family's VAE, reused).", c_vae),
        Figure(z / "figures" / "latent_frame.png", "V: one frame's code",
               "mu and log sigma^2 of the 32 latent dimensions of one frame: dimensions whose log sigma^2 stays near "
               "0 carry nothing (their posterior is the prior).", c_encode),
        Figure(pred, "M: the MDN-RNN's next-frame predictions",
               "Top: the next real frames (decoded codes); bottom: the MDN-RNN's most likely next code, decoded, "
               "given the past codes and actions.", c_rnn),
        Figure(ctrl / "scores.png", "C: CMA-ES in the dream",
               f"Best / mean / worst dream score per generation ({n['pop']} candidates x 2 dream rollouts, the whole "
               f"population batched through the MDN-RNN at temperature 1.15).", c_ctrl,
               {"last generation": f"best {last['best']:.2f}, mean {last['mean']:.2f} (dream return)", **score}),
        Figure(ctx.path("play.gif"), "The dream-trained controller in the real game",
               "Real frame | its VAE reconstruction | the controller's steer, gas and brake, on the first "
               "evaluation track.", c_play, score),
        Figure(ctx.path("dream_vs_real.png"), "Dream vs real",
               "Top: the real frames under the controller's dream actions; bottom: the MDN-RNN's dream from the same "
               "first frame under the same actions (most likely next code).", c_dream),
        Figure(ctx.path("dream.gif"), "A dream",
               "The controller driving inside the MDN-RNN, decoded by the VAE (temperature 1.15).", c_dream),
    ]


def section() -> TourSection:
    return TourSection(
        key="worldmodels", title="World Models: a car that learns in its dream (Foster ch. 8)", run=run,
        estimate_s={"quick": 60, "full": 900}, requires=("gymnasium", "Box2D", "cma"),
        summary="Ha & Schmidhuber's agent on CarRacing: a VAE compresses each frame, an MDN-RNN predicts the next "
                "code, and a linear controller on both is found by CMA-ES inside the MDN-RNN's dream, then scored in "
                "the real game.")
