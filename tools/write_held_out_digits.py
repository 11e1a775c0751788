"""Write the bundled networks' held-out test digits as PNG files, for ``shiftlab measure``.

    python tools/write_held_out_digits.py out/digits     # out/digits/0000-label6.png ...
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from resources import held_out_digits_path  # noqa: E402


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(f"usage: python {sys.argv[0]} OUTDIR")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    with np.load(held_out_digits_path(), allow_pickle=False) as data:
        images, labels = data["images"], data["labels"]
    for i, (img, label) in enumerate(zip(images, labels, strict=True)):
        if not cv2.imwrite(str(out / f"{i:04d}-label{label}.png"), img):
            sys.exit(f"cannot write {out}")
    print(f"{len(images)} digits written to {out}")


if __name__ == "__main__":
    main()
