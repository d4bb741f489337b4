"""Text generation: fast (stateful RNN / KV-cached GPT) and the seeds' slow re-encoding method for comparison.

    >>> model = genlab.load("runs/text/shakespeare")
    >>> print(generate(model, "ROMEO:", length=200, temperature=0.8, seed=0)[0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .model import TextModel
from .sampling import check_sampling_options, sample_logits


def _start_ids(model: TextModel, prompt: str) -> list[int]:
    tok = model.tokenizer
    if prompt:
        return tok.encode(prompt, what="prompt")
    # No prompt: start from a newline (the start of a line of text), else from token 0.
    return [tok.stoi["\n"]] if "\n" in tok.stoi else [0]


def _context_limit(model: TextModel) -> int | None:
    """GPTs see at most block_size tokens; RNNs carry their state over any length (``TextModel.context_limit``)."""
    return model.context_limit


@torch.no_grad()
def generate_ids(model: TextModel, prompt_ids: Sequence[int], *, n: int = 1, length: int = 200,
                 temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                 seed: int | None = None, on_token: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """Sample ``length`` new tokens after ``prompt_ids`` for ``n`` sequences at once: (n, length) token ids.

    Each new token costs one model step: an RNN carries its hidden state, a GPT its key/value cache. When a GPT's
    sequence reaches its context length, the cache is rebuilt from the last 3/4 of the context (a sliding window;
    rebuilding on every token would cost what the cache saves).
    """
    check_sampling_options(temperature=temperature, top_k=top_k, top_p=top_p, length=length, n=n)
    was_training = model.training
    model.eval()
    device = model.device
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    seq = torch.tensor(list(prompt_ids), dtype=torch.long).repeat(n, 1)  # (n, T0), kept on CPU
    limit = _context_limit(model)
    context = seq if limit is None else seq[:, -limit:]
    logits, state = model.prime(context.to(device))
    out = torch.empty(n, length, dtype=torch.long)
    for t in range(length):
        token = sample_logits(logits.float().cpu(), temperature=temperature, top_k=top_k, top_p=top_p, generator=gen)
        out[:, t] = token
        if on_token is not None:
            on_token(token)
        if t == length - 1:
            break
        if limit is not None and state.length >= limit:
            # The last `keep` tokens of prompt + text: read from `out` (and the prompt's tail while the text is
            # shorter), never by concatenating the whole sequence, so a rebuild costs O(keep) at any length.
            keep = max(1, (3 * limit) // 4)
            done = t + 1
            window = out[:, done - keep: done] if done >= keep else torch.cat([seq[:, max(0, seq.shape[1] - (keep - done)):],
                                                                               out[:, :done]], dim=1)
            logits, state = model.prime(window.to(device))
        else:
            logits, state = model.step(token.to(device), state)
    model.train(was_training)
    return out


@torch.no_grad()
def generate_ids_reencoding(model: TextModel, prompt_ids: Sequence[int], *, window: int, n: int = 1,
                            length: int = 200, temperature: float = 1.0, top_k: int | None = None,
                            top_p: float | None = None, seed: int | None = None) -> torch.Tensor:
    """The seeds' method: for every new token, run the model over the last ``window`` tokens from scratch."""
    check_sampling_options(temperature=temperature, top_k=top_k, top_p=top_p, length=length, n=n)
    model.eval()
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    seq = torch.tensor(list(prompt_ids), dtype=torch.long).repeat(n, 1)
    for _ in range(length):
        logits = model.logits(seq[:, -window:].to(model.device))[0][:, -1]
        token = sample_logits(logits.float().cpu(), temperature=temperature, top_k=top_k, top_p=top_p, generator=gen)
        seq = torch.cat([seq, token[:, None]], dim=1)
    return seq[:, len(prompt_ids):]


def generate(model: TextModel, prompt: str = "", *, n: int = 1, length: int = 200, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
             stream: Callable[[str], None] | None = None,
             on_token: Callable[[torch.Tensor], None] | None = None) -> list[str]:
    """``n`` continuations of ``prompt`` (each returned with the prompt in front). ``stream`` receives the text of
    the first sample piece by piece as it is generated (e.g. ``functools.partial(print, end="", flush=True)``);
    ``on_token`` each step's (n,) new token ids (a progress meter, say)."""
    tok = model.tokenizer
    prompt_ids = _start_ids(model, prompt)
    # Decode prompt + continuation together (word tokenizers put spaces between tokens); without a prompt, the
    # start token is not part of the text. The stream decodes each new token once, carrying the decoder's state:
    # re-decoding the whole sample per token made sampling quadratic in its length.
    head = list(prompt_ids) if prompt else []

    def streaming(token: torch.Tensor) -> None:
        piece = decoder([int(token[0])])
        if piece:
            stream(piece)  # type: ignore[misc]
        if on_token is not None:
            on_token(token)

    if stream is not None:
        decoder = tok.decoder()
        decoder(head)

    ids = generate_ids(model, prompt_ids, n=n, length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                       seed=seed, on_token=streaming if stream is not None else on_token)
    return [tok.decode(head + row.tolist()) for row in ids]
