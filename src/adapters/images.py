"""The ImageInspector port with Pillow: reads format and size from a file's first bytes."""

from __future__ import annotations

import io
import warnings

from movierater_core.uploads import ImageInfo


class PillowInspector:
    """Parses only the header (no full decode), under Pillow's decompression-bomb limit."""

    def inspect(self, head: bytes) -> ImageInfo | None:
        # Imported on first use: most worker processes never check an upload, and
        # Pillow would add to every worker's resident memory.
        from PIL import Image, UnidentifiedImageError

        try:
            with warnings.catch_warnings():
                # Over MAX_IMAGE_PIXELS Pillow warns; twice over, it raises. Refuse both.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(head)) as image:
                    width, height = image.size
                    return ImageInfo(format=image.format or "", width=width, height=height)
        except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
            return None
        except (OSError, ValueError, SyntaxError, EOFError):  # truncated or malformed headers
            return None
