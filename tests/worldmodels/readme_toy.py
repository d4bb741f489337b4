"""Toy sizes for the README's `genlab worldmodels ...` commands (appended after the README's own flags)."""

ENGINE = ["--max-steps", "3", "--no-tensorboard", "--no-progress", "--log-every", "1", "--sample-every", "0",
          "--checkpoint-every", "2"]
TOY = {
    ("worldmodels", "collect"): ["--episodes", "2", "--max-episode-steps", "30", "--workers", "1", "--no-progress"],
    ("worldmodels", "train-vae"): ENGINE + ["--batch-size", "16", "--conv-channels", "4", "4", "4", "4"],
    ("worldmodels", "encode"): ["--no-progress"],
    ("worldmodels", "train-rnn"): ENGINE + ["--batch-size", "2", "--seq-len", "8", "--hidden-size", "16"],
    ("worldmodels", "train-controller"): ["--population", "3", "--trials", "1", "--generations", "1",
                                          "--max-episode-steps", "10", "--no-progress"],
    ("worldmodels", "evaluate"): ["--episodes", "1", "--max-episode-steps", "10", "--no-progress"],
    ("worldmodels", "play"): ["--max-episode-steps", "5"],
    ("worldmodels", "dream"): ["--steps", "5"],
}
