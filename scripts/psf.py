"""PC Screen Font files (PSF1 and PSF2, as in Debian's console-setup-linux:
/usr/share/consolefonts/*.psf.gz): the glyph bitmap of each character.

Used by scripts/mkfont (the hypervisor's framebuffer font) and by the
system tests, which read QEMU's screen back with the same glyphs.
"""
import gzip
import struct

PSF1_MAGIC = b"\x36\x04"
PSF1_MODE512 = 0x01
PSF1_MODEHASTAB = 0x02
PSF1_SEPARATOR = 0xFFFF
PSF1_STARTSEQ = 0xFFFE
PSF2_MAGIC = b"\x72\xb5\x4a\x86"
PSF2_HAS_UNICODE_TABLE = 0x01
PSF2_SEPARATOR = 0xFF
PSF2_STARTSEQ = 0xFE
PSF1_WIDTH = 8


class FontError(Exception):
    pass


class Font:
    """width, height; glyph(char) -> [row bits as ints, msb = leftmost]."""

    def __init__(self, width, height, glyphs, unicode_map):
        self.width = width
        self.height = height
        self.glyphs = glyphs  # list of bytes, one bitmap per glyph
        self.unicode_map = unicode_map  # code point -> glyph index
        self.row_bytes = (width + 7) // 8

    def glyph(self, char):
        """The rows of char's glyph; a character the font lacks is an error."""
        index = self.unicode_map.get(ord(char), ord(char) if not self.unicode_map else None)
        if index is None or index >= len(self.glyphs):
            raise FontError(f"the font has no glyph for {char!r}")
        bitmap = self.glyphs[index]
        return [int.from_bytes(bitmap[r * self.row_bytes:(r + 1) * self.row_bytes], "big")
                for r in range(self.height)]


def _psf1(data):
    mode, charsize = data[2], data[3]
    count = 512 if mode & PSF1_MODE512 else 256
    start = 4
    glyphs = [data[start + i * charsize:start + (i + 1) * charsize] for i in range(count)]
    unicode_map = {}
    if mode & PSF1_MODEHASTAB:
        pos = start + count * charsize
        for index in range(count):
            in_sequence = False
            while True:
                (value,) = struct.unpack_from("<H", data, pos)
                pos += 2
                if value == PSF1_SEPARATOR:
                    break
                if value == PSF1_STARTSEQ:
                    in_sequence = True
                elif not in_sequence:
                    unicode_map.setdefault(value, index)
    return Font(PSF1_WIDTH, charsize, glyphs, unicode_map)


def _psf2(data):
    (_, version, header_size, flags, count, charsize, height,
     width) = struct.unpack_from("<4sIIIIIII", data, 0)
    glyphs = [data[header_size + i * charsize:header_size + (i + 1) * charsize]
              for i in range(count)]
    unicode_map = {}
    if flags & PSF2_HAS_UNICODE_TABLE:
        pos = header_size + count * charsize
        for index in range(count):
            end = data.index(bytes([PSF2_SEPARATOR]), pos)
            entry = data[pos:end]
            pos = end + 1
            single = entry.split(bytes([PSF2_STARTSEQ]))[0]
            for char in single.decode("utf-8"):
                unicode_map.setdefault(ord(char), index)
    return Font(width, height, glyphs, unicode_map)


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:2] == PSF1_MAGIC:
        return _psf1(data)
    if data[:4] == PSF2_MAGIC:
        return _psf2(data)
    raise FontError(f"{path}: not a PSF font")
