"""Figures: image grids and plots, written atomically."""

from .grid import save_image_grid, tensor_to_pil

__all__ = ["save_image_grid", "tensor_to_pil"]
