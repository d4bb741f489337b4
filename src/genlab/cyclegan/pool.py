"""The image pool of Shrivastava et al. 2017 (section 2.3), which CycleGAN uses with 50 images: the discriminators
see a history of generated images, not only the latest generator's, which damps oscillation."""

from __future__ import annotations

from typing import Any

import torch


class ImagePool:
    """Up to ``size`` generated images.

    ``query(images, generator)``: while the pool is not full, each image is stored and returned as is. Once full,
    each image is, with probability 1/2, returned as is; otherwise a uniformly drawn stored image is returned in its
    place and the new image takes its slot. ``size = 0`` returns the images unchanged. All draws come from the given
    ``torch.Generator`` (the trainer seeds it by step, so a resumed run draws the same), and :meth:`state_dict` /
    :meth:`load_state_dict` carry the stored images through a checkpoint.
    """

    def __init__(self, size: int = 50) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"pool size must be an integer >= 0 (got {size!r})")
        self.size = size
        self.images: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
                continue
            if float(torch.rand((), generator=generator)) < 0.5:
                out.append(image)
            else:
                slot = int(torch.randint(0, self.size, (), generator=generator))
                out.append(self.images[slot].clone())
                self.images[slot] = image.clone()
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        stored = torch.stack([i.cpu() for i in self.images]) if self.images else torch.zeros(0)
        return {"size": self.size, "images": stored}

    def load_state_dict(self, state: dict[str, Any], *, device: torch.device | str = "cpu") -> None:
        images = state.get("images")
        self.images = [] if images is None or images.numel() == 0 else [i.to(device) for i in images]
        self.images = self.images[: self.size]
