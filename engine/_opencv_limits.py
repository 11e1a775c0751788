"""OpenCV's own image-size limit, set before OpenCV is loaded.

OpenCV reads ``OPENCV_IO_MAX_IMAGE_PIXELS`` once, when its library is loaded by the
first ``import cv2``; setting it later changes nothing. ``engine/__init__.py`` imports
this module before anything that imports cv2, so OpenCV refuses images over
:data:`MAX_PIXELS` on its own as well: a second line of defence behind the header
checks in :mod:`engine.image_io`, which do not depend on it. A value already in the
environment is kept (raise it there to load larger images). If cv2 was imported
before the engine, OpenCV keeps its default of 2**30 pixels; :data:`APPLIED` says so.

This module must not import cv2 (or anything that does).
"""

from __future__ import annotations

import os
import sys

#: The default pixel limit of the image loader, and OpenCV's limit unless set outside.
MAX_PIXELS = 64_000_000

os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

#: True when OpenCV was not loaded yet, so it reads the limit above.
APPLIED = "cv2" not in sys.modules
