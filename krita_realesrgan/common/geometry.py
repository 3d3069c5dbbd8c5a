"""Value types for image geometry. Standard library only (the plugins use them too)."""
from __future__ import annotations

from typing import NamedTuple


class Extent(NamedTuple):
    """A size in pixels."""

    width: int
    height: int

    @property
    def pixel_count(self) -> int:
        return self.width * self.height

    @property
    def is_empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    def scaled(self, factor: float) -> "Extent":
        """The size of this extent scaled by ``factor``, truncated like the reference (``int(w * s)``), at least 1."""
        return Extent(max(1, int(self.width * factor)), max(1, int(self.height * factor)))

    def __mul__(self, factor: int) -> "Extent":  # type: ignore[override]
        return Extent(self.width * factor, self.height * factor)

    def fits_in(self, other: "Extent") -> bool:
        return self.width <= other.width and self.height <= other.height

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


class Bounds(NamedTuple):
    """An axis-aligned rectangle: top-left corner and size, in pixels."""

    x: int
    y: int
    width: int
    height: int

    @staticmethod
    def of(extent: Extent) -> "Bounds":
        return Bounds(0, 0, extent.width, extent.height)

    @property
    def extent(self) -> Extent:
        return Extent(self.width, self.height)

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def is_empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    def scaled(self, factor: float) -> "Bounds":
        """These bounds scaled by any factor, edges rounded to whole pixels (so adjacent bounds stay adjacent);
        non-empty bounds keep at least one pixel a side."""
        x0, y0 = round(self.x * factor), round(self.y * factor)
        x1, y1 = round(self.right * factor), round(self.bottom * factor)
        least = 0 if self.is_empty else 1
        return Bounds(x0, y0, max(least, x1 - x0), max(least, y1 - y0))

    def offset(self, dx: int, dy: int) -> "Bounds":
        return Bounds(self.x + dx, self.y + dy, self.width, self.height)

    def padded(self, margin: int) -> "Bounds":
        return Bounds(self.x - margin, self.y - margin, self.width + 2 * margin, self.height + 2 * margin)

    def intersection(self, other: "Bounds") -> "Bounds":
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.right, other.right), min(self.bottom, other.bottom)
        return Bounds(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def clamped(self, extent: Extent) -> "Bounds":
        return self.intersection(Bounds.of(extent))

    def relative_to(self, origin: "Bounds") -> "Bounds":
        """These bounds in the coordinates of ``origin``'s top-left corner."""
        return Bounds(self.x - origin.x, self.y - origin.y, self.width, self.height)

    def contains(self, other: "Bounds") -> bool:
        return (other.x >= self.x and other.y >= self.y
                and other.right <= self.right and other.bottom <= self.bottom)

    @property
    def slices(self):
        """(rows, columns) slices for indexing a HxW[xC] array."""
        return slice(self.y, self.bottom), slice(self.x, self.right)

    def __str__(self) -> str:
        return f"{self.width}x{self.height}+{self.x}+{self.y}"
