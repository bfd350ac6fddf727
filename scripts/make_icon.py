#!/usr/bin/env python3
"""Draw the ev_sessions brand icon: a white lightning bolt on a green tile.

Usage (from anywhere, any Python 3.11+; standard library only)::

    python3 scripts/make_icon.py            # writes the two files below
    python3 scripts/make_icon.py --out-dir /tmp/icons

Writes ``custom_components/ev_sessions/brand/icon.png`` (256x256) and
``icon@2x.png`` (512x512), the files Home Assistant shows for a custom
integration that has no entry in the home-assistant/brands repository.

Every shape is described by a signed distance function in unit coordinates
(0..1 across the icon); a pixel's coverage is its signed distance in pixels
clamped to [0, 1] around the edge, which gives exact-looking anti-aliasing
without supersampling. The output is deterministic: the same script always
writes the same bytes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import math
from pathlib import Path
import struct
import zlib

Point = tuple[float, float]
Color = tuple[float, float, float]

BRAND_DIR = (
    Path(__file__).resolve().parent.parent
    / "custom_components"
    / "ev_sessions"
    / "brand"
)

# The tile: a rounded square with a small margin and a vertical gradient.
TILE_MARGIN = 0.03
TILE_RADIUS = 0.21
TILE_TOP: Color = (0x4C, 0xC2, 0x74)
TILE_BOTTOM: Color = (0x16, 0x80, 0x45)

# The bolt, clockwise from its top-left corner, then its corner rounding.
BOLT: Sequence[Point] = (
    (0.500, 0.135),
    (0.690, 0.135),
    (0.570, 0.415),
    (0.720, 0.415),
    (0.400, 0.875),
    (0.460, 0.555),
    (0.285, 0.555),
)
BOLT_ROUNDING = 0.018
BOLT_COLOR: Color = (0xFF, 0xFF, 0xFF)

# A soft shadow below and right of the bolt.
SHADOW_OFFSET: Point = (0.012, 0.022)
SHADOW_BLUR = 0.035
SHADOW_OPACITY = 0.28
SHADOW_COLOR: Color = (0x0B, 0x3D, 0x21)


def rounded_square_distance(x: float, y: float) -> float:
    """Signed distance (unit coordinates) to the tile; negative inside."""
    half = 0.5 - TILE_MARGIN
    qx = abs(x - 0.5) - (half - TILE_RADIUS)
    qy = abs(y - 0.5) - (half - TILE_RADIUS)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - TILE_RADIUS


def polygon_distance(x: float, y: float, points: Sequence[Point]) -> float:
    """Signed distance (unit coordinates) to a simple polygon; negative inside."""
    best = math.inf
    inside = False
    count = len(points)
    for index in range(count):
        ax, ay = points[index]
        bx, by = points[(index + 1) % count]
        ex, ey = bx - ax, by - ay
        wx, wy = x - ax, y - ay
        t = max(0.0, min(1.0, (wx * ex + wy * ey) / (ex * ex + ey * ey)))
        dx, dy = wx - ex * t, wy - ey * t
        best = min(best, dx * dx + dy * dy)
        # Even-odd rule: count crossings of a ray going right from (x, y).
        if (ay > y) != (by > y) and x < ax + (y - ay) * ex / ey:
            inside = not inside
    distance = math.sqrt(best)
    return -distance if inside else distance


def coverage(distance_px: float) -> float:
    """Fraction of a pixel covered by a shape whose edge is distance_px away."""
    return max(0.0, min(1.0, 0.5 - distance_px))


def smoothstep(edge0: float, edge1: float, value: float) -> float:
    """Hermite interpolation from 0 at edge0 to 1 at edge1."""
    t = max(0.0, min(1.0, (value - edge0) / (edge1 - edge0)))
    return t * t * (3.0 - 2.0 * t)


def mix(a: Color, b: Color, t: float) -> Color:
    """Blend colour a towards colour b by t."""
    return (
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    )


def render(size: int) -> bytes:
    """Return the icon as rows of straight-alpha RGBA bytes, each row prefixed by 0."""
    scale = float(size)
    xs = [(column + 0.5) / scale for column in range(size)]
    bolt_box = (
        min(p[0] for p in BOLT) - 0.1,
        min(p[1] for p in BOLT) - 0.1,
        max(p[0] for p in BOLT) + 0.1,
        max(p[1] for p in BOLT) + 0.1,
    )
    raw = bytearray()
    for row in range(size):
        y = (row + 0.5) / scale
        raw.append(0)  # PNG filter type "None"
        background = mix(TILE_TOP, TILE_BOTTOM, smoothstep(0.0, 1.0, y))
        for x in xs:
            alpha = coverage(rounded_square_distance(x, y) * scale)
            if alpha <= 0.0:
                raw += b"\0\0\0\0"
                continue
            color = background
            if bolt_box[0] <= x <= bolt_box[2] and bolt_box[1] <= y <= bolt_box[3]:
                shadow_distance = (
                    polygon_distance(x - SHADOW_OFFSET[0], y - SHADOW_OFFSET[1], BOLT)
                    - BOLT_ROUNDING
                )
                shadow = SHADOW_OPACITY * (
                    1.0 - smoothstep(-SHADOW_BLUR, SHADOW_BLUR, shadow_distance)
                )
                color = mix(color, SHADOW_COLOR, shadow)
                bolt = coverage((polygon_distance(x, y, BOLT) - BOLT_ROUNDING) * scale)
                color = mix(color, BOLT_COLOR, bolt)
            raw += bytes(
                (
                    round(color[0]),
                    round(color[1]),
                    round(color[2]),
                    round(alpha * 255.0),
                )
            )
    return bytes(raw)


def png(size: int, scanlines: bytes) -> bytes:
    """Wrap filtered RGBA scanlines into a PNG file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    """Write icon.png and icon@2x.png."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=BRAND_DIR,
        help="folder to write into (default: %(default)s)",
    )
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        path = args.out_dir / name
        path.write_bytes(png(size, render(size)))
        print(f"wrote {path} ({size}x{size})")


if __name__ == "__main__":
    main()
