"""One recognisable glyph per node category, as fixed SVG path data in a 24x24 box."""

from __future__ import annotations

# (path data, drawn filled?) -- literals only, never built from input.
GLYPHS: dict[str, tuple[str, bool]] = {
    "trigger": ("M13 2L4 14H11L10 22L20 9H13Z", True),
    "ai": ("M12 2L14.2 9.8L22 12L14.2 14.2L12 22L9.8 14.2L2 12L9.8 9.8Z", True),
    "code": ("M8 6L2 12L8 18M16 6L22 12L16 18M14 4L10 20", False),
    "http": ("M2 12H22M12 2C6 8 6 16 12 22C18 16 18 8 12 2M12 2A10 10 0 1 0 12.01 2", False),
    "flow": ("M12 2L22 12L12 22L2 12Z", False),
    "transform": ("M4 8H19L15 4M20 16H5L9 20", False),
    "database": (
        "M4 6C4 2.7 20 2.7 20 6C20 9.3 4 9.3 4 6ZM4 6V18C4 21.3 20 21.3 20 18V6"
        "M4 12C4 15.3 20 15.3 20 12",
        False,
    ),
    "messaging": ("M3 4H21V16H10L5 20V16H3Z", False),
    "files": ("M6 2H14L20 8V22H6ZM14 2V8H20", False),
    "app": ("M3 3H10V10H3ZM14 3H21V10H14ZM3 14H10V21H3ZM14 14H21V21H14Z", False),
    "note": ("M4 4H20V14L14 20H4ZM14 20V14H20", False),
}
