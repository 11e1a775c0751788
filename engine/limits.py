"""The bounds of every pipeline and display setting, one place for the window, the command
line and session files.

They are what the window's controls offer; the command line refuses anything beyond them
before any work starts, and a session file that holds more is refused as damaged.
"""

from __future__ import annotations

from ._checks import bounded_int

__all__ = ["MAX_BLUR_SIZE", "MAX_KERNEL_SIZE", "MAX_LEVELS", "MAX_POOL_SIZE", "MAX_STRIDE",
           "MAX_TOP_K", "bounded_int"]

#: Largest kernel side (rows or columns).
MAX_KERNEL_SIZE = 7
#: Largest convolution stride, pooling window and pooling stride.
MAX_STRIDE = 8
MAX_POOL_SIZE = 8
#: Most binomial blur taps (blurmax and blur pooling).
MAX_BLUR_SIZE = 7
#: Most pooling levels (a 4096-pixel side is down to one cell after 12 pools of 2).
MAX_LEVELS = 12
#: Most maxima found and marked per stage.
MAX_TOP_K = 50
