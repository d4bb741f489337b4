"""The MDN-RNN and the controller: shapes, save/load, the batched dream equal to one-by-one rollouts, CMA-ES."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.worldmodels.cmaes import CMAES
from genlab.worldmodels.controller import run_search
from genlab.worldmodels.dream import dream_rollout
from genlab.worldmodels.models import MDNRNN, Controller, ControllerConfig, MDNRNNConfig, batched_actions


def _rnn(seed=0, d=6, h=12, k=3):
    torch.manual_seed(seed)
    return MDNRNN(MDNRNNConfig(latent_dim=d, hidden_size=h, num_mixtures=k)).eval()


def test_mdnrnn_loss_and_heads_shapes_and_round_trip(tmp_path):
    import genlab

    rnn = _rnn()
    b, length, d = 3, 5, 6
    out = rnn(torch.randn(b, length + 1, d), torch.full((b, length + 1, d), -2.0), torch.rand(b, length, 3),
              torch.randn(b, length), torch.tensor([[1.0, -0.1, -0.1, 3.0, -0.1]] * b), torch.zeros(b, length))
    assert set(out) == {"loss", "z_nll", "reward_bce", "done_bce"}
    assert out["loss"].item() == pytest.approx((out["z_nll"] + out["reward_bce"] + out["done_bce"]).item(), rel=1e-6)
    (logit_pi, mu, log_sigma, r, dn), (h, c) = rnn.step(torch.randn(4, d), torch.rand(4, 3), torch.zeros(4),
                                                         rnn.initial_state(4))
    assert logit_pi.shape == mu.shape == log_sigma.shape == (4, d, 3) and r.shape == dn.shape == (4,)
    assert h.shape == (1, 4, 12)
    rnn.save_pretrained(tmp_path)
    again = genlab.load(tmp_path)
    assert isinstance(again, MDNRNN) and again.config == rnn.config
    for a, b_ in zip(rnn.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b_)


def test_step_equals_the_sequence_forward():
    rnn = _rnn()
    z, a, r = torch.randn(2, 7, 6), torch.rand(2, 7, 3), torch.randn(2, 7)
    seq, _ = rnn.lstm(rnn.inputs(z, a, r))
    state = rnn.initial_state(2)
    for t in range(7):
        _, state = rnn.step(z[:, t], a[:, t], r[:, t], state)
        assert torch.allclose(state[0][0], seq[:, t], atol=1e-6)


def test_controller_actions_are_in_range_and_batched_equals_the_module():
    cfg = ControllerConfig(latent_dim=6, hidden_size=12)
    ctrl = Controller(cfg)
    torch.nn.init.normal_(ctrl.linear.weight, std=3.0)
    z, h = torch.randn(5, 6), torch.randn(5, 12)
    a = ctrl(z, h)
    assert a.shape == (5, 3)
    assert (a[:, 0].abs() <= 1).all() and ((a[:, 1:] >= 0) & (a[:, 1:] <= 1)).all()
    flat = ctrl.flat_parameters()
    assert flat.numel() == cfg.num_parameters == 3 * 18 + 3
    batched = batched_actions(flat[None].expand(5, -1), torch.cat([z, h], 1), cfg)
    assert torch.allclose(batched, a, atol=1e-6)
    other = Controller(cfg).set_flat_parameters(flat)
    assert torch.equal(other.flat_parameters(), flat)
    v_only = ControllerConfig(latent_dim=6, hidden_size=0)
    assert v_only.num_parameters == 3 * 6 + 3


def test_batched_dream_equals_the_same_rollouts_one_by_one():
    rnn = _rnn(seed=3).double()
    cfg = ControllerConfig(latent_dim=6, hidden_size=12)
    g = torch.Generator().manual_seed(0)
    params = torch.randn(5, cfg.num_parameters, generator=g, dtype=torch.float64) * 0.5
    z0 = torch.randn(5, 6, generator=g, dtype=torch.float64)
    seeds = [11, 12, 13, 14, 15]
    together, zs, acts = dream_rollout(rnn, params, z0, horizon=25, temperature=1.15, seeds=seeds, record=True)
    for i in range(5):
        alone, zi, ai = dream_rollout(rnn, params[i:i + 1], z0[i:i + 1], horizon=25, temperature=1.15,
                                      seeds=[seeds[i]], record=True)
        n = zi.shape[0]
        assert torch.allclose(zi[:, 0], zs[:n, i], atol=1e-10)
        assert torch.allclose(ai[:, 0], acts[:n, i], atol=1e-10)
        assert float(alone[0]) == pytest.approx(float(together[i]), abs=1e-9)
    # the noise matters (a different seed, a different dream) and tau = 0 is deterministic
    other = dream_rollout(rnn, params[:1], z0[:1], horizon=25, temperature=1.15, seeds=[99])
    assert float(other[0]) != pytest.approx(float(together[0]), abs=1e-9)
    t0a = dream_rollout(rnn, params[:1], z0[:1], horizon=25, temperature=0.0, seeds=[1])
    t0b = dream_rollout(rnn, params[:1], z0[:1], horizon=25, temperature=0.0, seeds=[2])
    assert float(t0a[0]) == float(t0b[0])


def test_cmaes_improves_a_quadratic_through_the_search_loop():
    target = np.linspace(-1, 1, 12)

    def score(population, generation, stop):  # the controller's scorer has this signature
        return -((population - target) ** 2).sum(1)

    es = CMAES(12, popsize=10, sigma0=0.5, seed=0)
    first = score(es.mean[None], 0, None)[0]
    history = []
    reason = run_search(es, score, target=60, on_generation=lambda e, s, t: history.append(s.max()))
    assert reason == "finished" and es.generation == 60
    final = score(es.mean[None], 0, None)[0]
    assert first == pytest.approx(-float((target ** 2).sum()))
    assert final > 0.01 * first  # the squared distance to the optimum shrank more than 100-fold
    assert np.mean(history[-5:]) > np.mean(history[:5])


def test_cmaes_state_rebuilds_exactly():
    def score(population, generation, stop):
        return -(population ** 2).sum(1) + 0.1 * np.sin(population.sum(1))

    straight = CMAES(9, popsize=6, sigma0=0.3, seed=5)
    run_search(straight, score, target=12)
    half = CMAES(9, popsize=6, sigma0=0.3, seed=5)
    run_search(half, score, target=5)
    state = {k: v.copy() for k, v in half.state().items()}
    resumed = CMAES.from_state(state, num_params=9, popsize=6, sigma0=0.3, seed=5)
    assert np.array_equal(resumed.mean, half.mean) and resumed.sigma == half.sigma
    run_search(resumed, score, target=12)
    assert np.array_equal(resumed.mean, straight.mean)
    assert resumed.sigma == straight.sigma
    assert np.array_equal(resumed.es.sm.C, straight.es.sm.C)
    assert np.array_equal(resumed.ask(), straight.ask())
    from genlab.core.errors import CheckpointError

    state["mean"] = state["mean"] + 1e-12
    with pytest.raises(CheckpointError, match="does not replay"):
        CMAES.from_state(state, num_params=9, popsize=6, sigma0=0.3, seed=5)
