"""ShiftLab's engine: pure numpy + OpenCV convolution, activation, pooling and measurement.

Never imports Qt. Every function takes arrays and returns new arrays.
"""

from .conv import ACTIVATIONS, PADDINGS, activate, conv2d, relu
from .image_io import ImageLoadError, load_color_image, load_image
from .kernels import KERNELS, parse_kernel_text
from .maxima import find_maxima
from .pipeline import PipelineResult, PipelineSpec, Stage, run_pipeline
from .pool import POOL_MODES, binomial_taps, blur_kernel, pool2d, pool_pyramid

__all__ = [
    "ACTIVATIONS",
    "KERNELS",
    "PADDINGS",
    "POOL_MODES",
    "ImageLoadError",
    "PipelineResult",
    "PipelineSpec",
    "Stage",
    "activate",
    "binomial_taps",
    "blur_kernel",
    "conv2d",
    "find_maxima",
    "load_color_image",
    "load_image",
    "parse_kernel_text",
    "pool2d",
    "pool_pyramid",
    "relu",
    "run_pipeline",
]
