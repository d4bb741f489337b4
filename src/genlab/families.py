"""The one table of genlab's families: adding a family is one folder under ``src/genlab/`` plus rows here.

Nothing here imports a family. ``genlab <name> ...`` imports only the CLI module of the family it runs, ``genlab.<name>``
imports only that family's package, and ``genlab.load(run)`` imports only the module of the ``model_type`` it reads
(a lazy table, as diffusers keeps one). See docs/ADDING_A_FAMILY.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str  # `genlab NAME ...` and `genlab.NAME`
    package: str  # the Python API: train / sample / evaluate
    cli: str | None  # "module:function" that adds `genlab NAME ...` to the argument parser
    help: str  # one line for `genlab -h`


FAMILIES: tuple[Family, ...] = (
    Family("vae", "genlab.vae", "genlab.latent.cli:add_vae_parser", "variational autoencoders (MLP / conv, beta-VAE)"),
    Family("ae", "genlab.ae", "genlab.latent.cli:add_ae_parser", "plain autoencoders (+ latent tools)"),
    Family("aae", "genlab.aae", "genlab.latent.cli:add_aae_parser", "adversarial autoencoders (normal or mixture prior)"),
    Family("gan", "genlab.gan", "genlab.gan.cli:add_parser",
           "GANs: DCGAN with ns / wgan / wgan-gp / hinge losses, FID during training"),
    Family("text", "genlab.text", "genlab.text.cli:add_parser", "text generation: char/word LSTM, GRU and a small GPT"),
    Family("dream", "genlab.dream", "genlab.imageopt.cli:add_parser", "DeepDream through a trained convnet"),
    Family("visualize", "genlab.dream", "genlab.imageopt.cli:add_visualize_parser",
           "what a convnet's channels respond to (filter / class visualisation)"),
    Family("features", "genlab.features", "genlab.imageopt.cli:add_features_parser",
           "list the layers of the feature networks"),
    Family("style", "genlab.style", "genlab.imageopt.cli:add_style_parser",
           "style transfer: Gatys (run) and fast feed-forward (train, apply)"),
    Family("tour", "genlab.tour", "genlab.tour.cli:add_parser",
           "every family's short recipe, one HTML gallery (runs/tour/index.html)"),
    Family("app", "genlab.app", "genlab.app.cli:add_parser", "a web app over every family (Gradio, genlab[app])"),
    Family("cyclegan", "genlab.cyclegan", "genlab.cyclegan.cli:add_parser",
           "unpaired image-to-image translation (CycleGAN: U-Net / ResNet generators, PatchGAN)"),
    Family("music", "genlab.music", "genlab.music.cli:add_parser",
           "music: note/duration LSTM with attention, GPT, polyphonic chorale RNN, MuseGAN; MIDI/WAV/PNG out"),
    Family("qgen", "genlab.qgen", "genlab.qgen.cli:add_parser",
           "question generation: BiGRU encoder, attention, copy, beam search (Foster ch. 6)"),
    Family("naive-bayes", "genlab.naivebayes", "genlab.naivebayes.cli:add_parser",
           "the naive-Bayes generator of categorical data and binarised MNIST (Foster ch. 1)"),
    Family("worldmodels", "genlab.worldmodels", "genlab.worldmodels.cli:add_parser",
           "World Models: VAE + MDN-RNN + CMA-ES controller on CarRacing (real game and dream)"),
)

# model_type (as saved in config.json) -> "module:Class". Saved names never change, so every old run keeps loading.
MODEL_TYPES: dict[str, str] = {
    "vae-mlp": "genlab.latent.models:MLPVAE",
    "vae-conv": "genlab.latent.models:ConvVAE",
    "ae": "genlab.latent.models:Autoencoder",
    "aae": "genlab.latent.models:AdversarialAutoencoder",
    "gan-dcgan": "genlab.gan.models:GAN",
    "gan-progan": "genlab.gan.progressive:ProGAN",
    "gan-stylegan": "genlab.gan.stylegan:StyleGAN",
    "text-lstm": "genlab.text.model:LSTMLanguageModel",
    "text-gru": "genlab.text.model:GRULanguageModel",
    "text-gpt": "genlab.text.gpt:GPT",
    "fast-style": "genlab.imageopt.fast_style:FastStyleNet",
    "domain-classifier": "genlab.features.domain:DomainClassifier",
    "cyclegan": "genlab.cyclegan.models:CycleGAN",
    "qgen-seq2seq": "genlab.qgen.models:QGen",
    "naive-bayes": "genlab.naivebayes.models:NaiveBayes",
    "categorical-ar": "genlab.naivebayes.models:AutoregressiveCategorical",
    "music-rnn-attention": "genlab.music.models:NoteRNN",
    "music-gpt": "genlab.music.models:MusicGPT",
    "music-polyphonic": "genlab.music.models:PolyRNN",
    "music-musegan": "genlab.music.musegan:MuseGAN",
    "worldmodels-mdnrnn": "genlab.worldmodels.models:MDNRNN",
    "worldmodels-controller": "genlab.worldmodels.models:Controller",
}

# The tour's sections, in gallery order: "module:function" returning a genlab.core.tourkit.TourSection.
# A family adds its line when it lands (see docs/ADDING_A_FAMILY.md, "Tour and app").
TOUR: tuple[str, ...] = (
    "genlab.latent.tour:section",
    "genlab.gan.tour:section",
    "genlab.gan.tour_progressive:section",
    "genlab.cyclegan.tour:section",
    "genlab.text.tour:section",
    "genlab.imageopt.tour:section",
    "genlab.music.tour:section",
    "genlab.music.musegan_tour:section",
    "genlab.worldmodels.tour:section",
    "genlab.qgen.tour:section",
    "genlab.naivebayes.tour:section",
)

# The app's tabs, in order: "module:function" called as function(gr, ctx) inside a gradio Tab (see genlab.app).
APP_TABS: tuple[str, ...] = (
    "genlab.latent.app_tab:build_tab",
    "genlab.gan.app_tab:build_tab",
    "genlab.cyclegan.app_tab:build_tab",
    "genlab.text.app_tab:build_tab",
    "genlab.imageopt.app_tab:build_tab",
    "genlab.music.app_tab:build_tab",
    "genlab.music.musegan_app_tab:build_tab",
    "genlab.worldmodels.app_tab:build_tab",
    "genlab.qgen.app_tab:build_tab",
    "genlab.naivebayes.app_tab:build_tab",
)

# Python packages reachable as `genlab.<name>` (families, plus the shared kit a user may reach for).
PACKAGES: tuple[str, ...] = tuple(dict.fromkeys(
    [f.package.removeprefix("genlab.") for f in FAMILIES]
    + ["latent", "imageopt", "metrics", "data", "features", "viz", "core"]))


def family(name: str) -> Family | None:
    return next((f for f in FAMILIES if f.name == name), None)
