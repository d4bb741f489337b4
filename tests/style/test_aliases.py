"""genlab.dream and genlab.style stay importable with the names of the first release (the code is genlab.imageopt),
and a saved fast-style run names its class through the family table."""

from __future__ import annotations


def test_dream_and_style_alias_packages_keep_their_public_names():
    import genlab.dream as dream
    import genlab.imageopt as imageopt
    import genlab.style as style
    from genlab.imageopt import fast_style

    for name in ("BOOK_LAYERS", "DreamConfig", "DreamResult", "VisualizeConfig", "VisualizeResult",
                 "channel_objective", "deepdream", "dream_loss", "guide_score_map", "normalize_gradient",
                 "octave_shapes", "visualize"):
        assert getattr(dream, name) is getattr(imageopt, name), name
    for name in ("FastStyleConfig", "FastStyleNet", "StyleConfig", "StyleObjective", "StyleResult", "content_loss",
                 "gram_matrix", "style_loss", "style_transfer", "total_variation_loss"):
        assert getattr(style, name) is getattr(imageopt, name), name
    # the first release's function names, and the verbs of `genlab style train|apply|evaluate`
    assert style.train_fast is style.train is fast_style.train is imageopt.train_style
    assert style.apply_fast is style.apply is fast_style.apply is imageopt.apply_style
    assert style.evaluate is imageopt.evaluate_style


def test_fast_style_model_type_resolves_to_the_moved_class():
    from genlab.core.registry import model_class
    from genlab.imageopt.fast_style import FastStyleNet

    assert model_class("fast-style") is FastStyleNet
