"""The app and the tour's gallery in a real browser: Playwright driving Debian's chromium.

The app is started on a free port on 127.0.0.1 over tiny runs made here; every request the page makes that does not
go to 127.0.0.1/localhost fails the test. Per tab: load, set inputs, click, wait for the output, check it is a real
image of the expected size (not a placeholder), save a screenshot under the test's tmp folder. Path traversal and
hostile uploads are tried through the page, and the server must still answer afterwards. The tour's index.html is
opened in the same browser and every image and audio element must have loaded.

GENLAB_SCREENSHOTS=DIR also copies the app and gallery screenshots there (how docs/gallery/ was made);
GENLAB_TOUR_DIR=DIR also opens a real tour's index.html (e.g. runs/tour after `make demo`) and checks it, and serves
that tour's 2-D VAE run instead of a 5-step toy one (so the app screenshot shows digits).
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import struct
import time
import types
import wave
import zlib
from pathlib import Path

import pytest

from helpers import REPO, make_mnist_dir

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "data:", "blob:", "file://")
TIMEOUT = 120_000  # ms: a loaded 2-core machine


def _need_browser() -> None:
    from genlab.core.extras import available

    if not available("gradio"):
        pytest.skip("gradio is not installed: pip install 'genlab[app]'")
    if not available("playwright"):
        pytest.skip("playwright is not installed: pip install 'genlab[app]'")
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed: apt-get install -y chromium (make test does it when run as root)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _grid(n: int, side: int, nrow: int, scale: int, pad: int = 2) -> tuple[int, int]:
    rows = math.ceil(n / nrow)
    return (nrow * (side + pad) + pad) * scale, (rows * (side + pad) + pad) * scale


def _png(path: Path, size: int = 40, colour=(200, 40, 40)) -> Path:
    from PIL import Image

    img = Image.new("RGB", (size, size), (255, 255, 255))
    img.paste(Image.new("RGB", (size // 2, size // 2), colour), (size // 4, size // 4))
    img.save(path)
    return path


def _bomb(path: Path) -> Path:
    """A valid PNG header claiming 20,000 x 20,000 pixels (400 MP, above the 40 MP limit), a few bytes long."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
                     + chunk(b"IEND", b""))
    return path


def _wav(path: Path) -> Path:
    import numpy as np

    t = np.arange(8000) / 8000
    data = (np.sin(2 * np.pi * 440 * t) * 20000).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(data)
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Tiny runs (VAE 2-D, DCGAN, char GPT), a small fake tour, and the app serving them."""
    _need_browser()
    from genlab.cli import main as _main

    def main(argv):
        return _main([str(a) for a in argv])

    root = tmp_path_factory.mktemp("app")
    data = make_mnist_dir(root / "mnist")
    runs = root / "runs"
    common = ["--no-progress", "--no-tensorboard", "--device", "cpu"]
    real_vae = Path(os.environ.get("GENLAB_TOUR_DIR", "/nonexistent")) / "vae" / "vae-2d"
    if (real_vae / "model.safetensors").is_file():  # screenshots: the tour's real 2-D VAE (same shape as the toy)
        shutil.copytree(real_vae, runs / "vae-2d", ignore=shutil.ignore_patterns("checkpoints", ".lock"))
    else:
        assert main(["vae", "train", "--dataset", "mnist", "--data-dir", data, "--latent-dim", "2", "--max-steps",
                     "5", *common, "--out", runs / "vae-2d"]) == 0
    assert main(["gan", "train", "--dataset", "mnist", "--data-dir", data, "--max-steps", "2", "--fid-samples", "0",
                 *common, "--out", runs / "gan"]) == 0
    corpus = root / "corpus.txt"
    corpus.write_text("ROMEO: a rose by any other name would smell as sweet.\n" * 200, encoding="utf-8")
    assert main(["text", "train", "--corpus", corpus, "--model", "gpt", "--n-layer", "1", "--n-embd", "16",
                 "--n-head", "2", "--block-size", "16", "--max-steps", "3", *common, "--out", runs / "text"]) == 0
    outside = root / "outside"
    shutil.copytree(runs / "vae-2d", outside / "vae-copy", ignore=shutil.ignore_patterns("checkpoints"))
    (runs / "escape").symlink_to(outside / "vae-copy", target_is_directory=True)

    tour = runs / "tour"
    fake = types.ModuleType("genlab_test_fake_tour")

    def section():
        from genlab.core.tourkit import Figure, TourSection

        def run(ctx):
            img = _png(ctx.path("picture.png"), 64)
            snd = _wav(ctx.path("tone.wav"))
            ctx.path("words.md").write_text("# a table\n\n| T | text |\n|---|---|\n| 0.5 | to be |\n")
            return [Figure(img, "A picture", "two lines", "genlab fake run", {"score": "1.0 (fake, 1 image)"},
                           weights="random (seed 0) — NOT pretrained"),
                    Figure(snd, "A tone", "440 Hz", "genlab fake tone", {}),
                    Figure(ctx.path("words.md"), "Words", "text", "genlab fake text", {})]
        return TourSection("fake", "A fake section", run, {"quick": 1})

    def broken():
        from genlab.core.tourkit import TourSection

        def run(ctx):
            raise RuntimeError("this section is broken on purpose")
        return TourSection("broken", "A broken section", run, {"quick": 1})

    fake.section, fake.broken = section, broken
    import sys
    sys.modules[fake.__name__] = fake
    from genlab.tour.runner import run_tour
    run_tour(tour, specs=[f"{fake.__name__}:section", f"{fake.__name__}:broken"], log=lambda s: None)

    from genlab.app.server import launch

    port = _free_port()
    demo, ctx, url = launch(runs, port=port, block=False, quiet=True, tour_dir=tour, max_upload_mb=5)
    files = root / "files"
    files.mkdir()
    w = types.SimpleNamespace(root=root, runs=runs, data=data, tour=tour, url=url, ctx=ctx, files=files,
                              shots=root / "screenshots")
    w.shots.mkdir()
    yield w
    ctx.close()
    demo.close()
    sys.modules.pop(fake.__name__, None)


@pytest.fixture(scope="module")
def browser(world):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, world):
    """A page on the app that fails the test on any request leaving localhost."""
    leaked: list[str] = []
    # wide enough for every family's tab in one row (narrower windows put the last tabs in gradio's overflow menu)
    context = browser.new_context(viewport={"width": 2400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT)

    def route(r):
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            leaked.append(r.request.url)
            r.abort()
    pg.route("**/*", route)
    pg.goto(world.url)
    pg.get_by_role("tab", name="VAE / AE / AAE").wait_for()
    yield pg
    context.close()
    assert not leaked, f"requests left localhost: {leaked}"


def _tab(pg, name: str) -> None:
    pg.get_by_role("tab", name=name, exact=True).first.click()


def _image_size(pg, elem: str, old: str | None = None) -> tuple[int, int]:
    """Wait for a loaded <img> in component ``elem`` (a new one if ``old`` is its previous src); its natural size."""
    pg.wait_for_function(
        """([sel, old]) => { const i = document.querySelector(sel + ' img');
             return i && i.complete && i.naturalWidth > 0 && i.src !== old }""", arg=[f"#{elem}", old or ""])
    return tuple(pg.eval_on_selector(f"#{elem} img", "i => [i.naturalWidth, i.naturalHeight]"))


def _src(pg, elem: str) -> str:
    return pg.evaluate("(sel) => { const i = document.querySelector(sel + ' img'); return i ? i.src : '' }",
                       f"#{elem}")


def _upload(pg, elem: str, path: Path) -> None:
    """Upload through the page's file widget (clearing what it holds first) and wait until the upload is done."""
    clear = pg.locator(f"#{elem} button[aria-label='Clear']")
    if clear.count():
        clear.first.click()
    pg.set_input_files(f"#{elem} input[type=file]", str(path))
    pg.locator(f"#{elem} a[download='{path.name}']").first.wait_for()


def _error(pg, *words: str) -> None:
    """An error message in the page containing every word."""
    pg.wait_for_function(
        """(words) => Array.from(document.querySelectorAll('.toast-body, .toast-wrap, [data-testid="toast-body"]'))
             .some(e => words.every(w => e.textContent.includes(w)))""", arg=list(words))


def _close_toasts(pg) -> None:
    for btn in pg.locator(".toast-close").all():
        try:
            btn.click(timeout=2000)
        except Exception:  # noqa: BLE001 - already gone
            pass


def _set_run(pg, elem: str, value: str) -> None:
    box = pg.locator(f"#{elem} input")
    box.fill(value)
    box.press("Enter")
    pg.locator("body").click(position={"x": 5, "y": 5})


def _shot(pg, world, name: str) -> Path:
    path = world.shots / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    target = os.environ.get("GENLAB_SCREENSHOTS")
    if target and name in ("app", "tour"):  # the two the README shows
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)
    return path


def test_app_answers_and_loads_from_localhost_only(page, world):
    for name in ("VAE / AE / AAE", "GAN", "Text", "DeepDream / style", "Train", "Tour gallery"):
        assert page.get_by_role("tab", name=name, exact=True).count() >= 1, name
    # the runs are listed relative to --runs-dir; the symlink that leads out is not listed
    assert page.locator("#latent-run input").input_value() == "vae-2d"


def test_latent_tab(page, world):
    page.click("#latent-sample-btn")
    assert _image_size(page, "latent-samples") == _grid(16, 28, 4, 2)
    page.get_by_text("16 samples from the prior of vae-2d").wait_for()
    _shot(page, world, "app")

    _tab(page, "Latent explorer")
    page.click("#latent-explore-btn")
    assert _image_size(page, "latent-decoded") == (28 * 8, 28 * 8)

    _tab(page, "Interpolate two images")
    _upload(page, "latent-upload-a", _png(world.files / "a.png", 40, (220, 40, 40)))
    _upload(page, "latent-upload-b", _png(world.files / "b.png", 56, (40, 40, 220)))
    page.click("#latent-interp-btn")
    assert _image_size(page, "latent-interp") == _grid(10, 28, 10, 3)

    _tab(page, "Attribute vector")
    page.click("#latent-attr-btn")
    w, h = _image_size(page, "latent-attr")
    assert w > 150 and h > 150
    _shot(page, world, "app-latent-attribute")


def test_run_folders_outside_runs_dir_are_refused_through_the_page(page, world):
    for value in ("../outside/vae-copy", str(world.root / "outside" / "vae-copy"), "escape", "/etc"):
        _set_run(page, "latent-run", value)
        page.click("#latent-sample-btn")
        _error(page, "outside the runs folder")
        _close_toasts(page)
    _set_run(page, "latent-run", "gan")  # inside, but a GAN run
    page.click("#latent-sample-btn")
    _error(page, "this tab takes")
    _close_toasts(page)
    _set_run(page, "latent-run", "vae-2d")
    page.click("#latent-sample-btn")
    assert _image_size(page, "latent-samples") == _grid(16, 28, 4, 2)  # the server survived all of it


def test_gan_tab(page, world):
    _tab(page, "GAN")
    page.click("#gan-sample-btn")
    assert _image_size(page, "gan-samples") == _grid(16, 28, 4, 2)
    page.get_by_role("tab", name="Interpolate", exact=True).last.click()
    page.click("#gan-interp-btn")
    assert _image_size(page, "gan-interp") == _grid(32, 28, 8, 2)
    _shot(page, world, "app-gan")


def test_text_tab_streams_a_continuation(page, world):
    _tab(page, "Text")
    page.fill("#text-length input", "40")
    page.click("#text-generate-btn")
    page.wait_for_function("""() => { const t = document.querySelector('#text-output textarea');
                                      return t && t.value.startsWith('ROMEO:') && t.value.length >= 20 }""")
    _shot(page, world, "app-text")


def test_imageopt_tab_and_hostile_uploads(page, world):
    _tab(page, "DeepDream / style")
    page.get_by_role("tab", name="DeepDream", exact=True).click()
    _upload(page, "imageopt-dream-upload", _png(world.files / "photo.png", 96))
    page.click("#imageopt-dream-btn")
    _image_size(page, "imageopt-dream")
    w, h = _image_size(page, "imageopt-dream")
    assert (w, h) == (160, 160)  # the default size: longer side 160
    page.get_by_text("NOT pretrained").first.wait_for()  # random weights are said to be random
    _shot(page, world, "app-dream")

    # a decompression bomb, a truncated PNG and a text file named .png: a message each, never a dead server
    valid = (world.files / "photo.png").read_bytes()
    (world.files / "truncated.png").write_bytes(valid[: len(valid) // 2])
    (world.files / "notes.png").write_text("these are not pixels\n")
    cases = [(_bomb(world.files / "bomb.png"), "above the limit"), (world.files / "truncated.png", "refused"),
             (world.files / "notes.png", "refused")]
    for path, words in cases:
        _upload(page, "imageopt-dream-upload", path)
        page.click("#imageopt-dream-btn")
        _error(page, words)
        _close_toasts(page)
    # a .safetensors that is not one, as the network's weights
    (world.files / "weights.safetensors").write_bytes(b"\x00\x01 definitely not a safetensors file" * 10)
    _upload(page, "imageopt-dream-upload", world.files / "photo.png")
    page.locator("#imageopt-dream-weights input").click()
    page.get_by_role("option", name="a state_dict file (upload)").click()
    _upload(page, "imageopt-weights-file", world.files / "weights.safetensors")
    page.click("#imageopt-dream-btn")
    _error(page, "not a readable safetensors file")
    _close_toasts(page)

    page.get_by_role("tab", name="Style transfer", exact=True).click()
    _upload(page, "imageopt-content", world.files / "photo.png")
    _upload(page, "imageopt-style", _png(world.files / "style.png", 80, (30, 160, 60)))
    page.fill("#imageopt-style-size input[type=number]", "64")
    page.fill("#imageopt-evals input[type=number]", "2")
    page.locator("#imageopt-evals input[type=number]").press("Enter")
    page.click("#imageopt-style-btn")
    assert _image_size(page, "imageopt-result") == (64, 64)


def test_train_tab_live_plot_and_cancel_leaves_a_checkpoint(page, world):
    _tab(page, "Train")
    page.fill("#train-data textarea, #train-data input", "mnist")
    page.fill("#train-steps input", "100000")
    page.fill("#train-name textarea, #train-name input", "vae-live")
    page.fill("#train-extra textarea, #train-extra input",
              f"--data-dir {world.data} --log-every 5 --checkpoint-every 1000000 --batch-size 8")
    page.click("#train-start")
    page.get_by_text("job 1: ").first.wait_for()
    w, h = _image_size(page, "train-plot")  # the live loss plot, from metrics.jsonl while the job runs
    assert w >= 300 and h >= 200
    _shot(page, world, "app-train")
    page.click("#train-cancel")
    page.wait_for_function("() => document.querySelector('#train-status').textContent.includes('cancelled')")
    run = world.runs / "app" / "vae-live"
    assert list((run / "checkpoints").glob("step_*")), "Cancel must leave a resumable checkpoint"
    assert "--resume" in page.locator("#train-status").text_content()


def test_gallery_tab_shows_the_tour(page, world):
    _tab(page, "Tour gallery")
    page.click("#gallery-refresh")
    page.wait_for_function("""() => Array.from(document.querySelectorAll('#gallery-images img'))
                                      .some(i => i.complete && i.naturalWidth === 64)""")
    page.get_by_text("this section is broken on purpose").first.wait_for()


def _check_gallery(pg, index: Path) -> tuple[int, int]:
    pg.goto(index.resolve().as_uri())
    pg.wait_for_load_state("load")
    pg.wait_for_function("""() => Array.from(document.images).every(i => i.complete)
                                  && Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1
                                     || a.error)""")
    bad_img = pg.evaluate("() => Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.src)")
    bad_audio = pg.evaluate("() => Array.from(document.querySelectorAll('audio')).filter(a => a.error)"
                            ".map(a => a.src)")
    assert not bad_img and not bad_audio, (bad_img, bad_audio)
    return pg.evaluate("() => document.images.length"), pg.evaluate("() => document.querySelectorAll('audio').length")


def test_the_tour_gallery_loads_every_image_and_sound(page, world):
    images, audio = _check_gallery(page, world.tour / "index.html")
    assert images == 1 and audio == 1
    assert page.get_by_text("This section failed: this section is broken on purpose").count() == 1
    assert page.get_by_text("NOT pretrained").count() >= 1
    real = os.environ.get("GENLAB_TOUR_DIR")
    if real:  # a real tour (make demo): every figure loads too
        images, _ = _check_gallery(page, Path(real) / "index.html")
        assert images >= 1
        _shot(page, world, "tour")
