"""Reads text back from a screenshot (QEMU's screendump, a binary PPM) by
matching every 8x16 cell against the glyphs of the PSF font pgvisor's
framebuffer console draws with (Makefile FONT_PSF, drivers/fbcon.c)."""
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import psf  # noqa: E402

FONT_PSF = "/usr/share/consolefonts/Uni2-VGA16.psf.gz"
PRINTABLE = range(0x20, 0x7F)
# drivers/fbcon.c draws light grey (0xaa) on black: a pixel is lit when
# any component is past half of that.
LIT_LEVEL = 0x55
UNKNOWN = "\ufffd"


def read_ppm(path):
    """(width, height, RGB bytes) of a binary (P6) PPM with maxval 255."""
    data = path.read_bytes()
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    assert magic == b"P6" and maxval == 255, f"{path}: not a binary PPM"
    return width, height, data[pos + 1:pos + 1 + width * height * 3]


def screen_text(path):
    """The screen's text, one string per row of cells, trailing blanks
    removed; a cell that is no glyph of the font reads as U+FFFD."""
    font = psf.load(FONT_PSF)
    glyphs = {tuple(font.glyph(chr(c))): chr(c) for c in reversed(PRINTABLE)}
    width, height, pixels = read_ppm(path)
    rows = []
    for top in range(0, height - font.height + 1, font.height):
        text = []
        for left in range(0, width - font.width + 1, font.width):
            cell = []
            for y in range(top, top + font.height):
                bits = 0
                base = (y * width + left) * 3
                for x in range(font.width):
                    r, g, b = pixels[base + 3 * x:base + 3 * x + 3]
                    bits = bits << 1 | (max(r, g, b) > LIT_LEVEL)
                cell.append(bits)
            text.append(glyphs.get(tuple(cell), UNKNOWN))
        rows.append("".join(text).rstrip())
    return rows
