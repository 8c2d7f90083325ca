"""Small PDFs written by hand for the tests: real PDF syntax, text in Helvetica, no binary
files committed. `make_pdf` gives pages of text lines; `make_scanned_pdf` an image-only page."""

from __future__ import annotations

import zlib


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _assemble(objects: list[bytes], info: bool = False) -> bytes:
    """A PDF file from its numbered objects (1-based, 1 = catalog), with a correct xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R".encode()
    if info:  # the last object is the document information dictionary
        out += f" /Info {len(objects)} 0 R".encode()
    out += f" >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"", compress: bool = True) -> bytes:
    if compress:
        data = zlib.compress(data)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def make_pdf(
    pages: list[list[str]],
    *,
    title: str | None = None,
    author: str | None = None,
    created: str | None = None,
) -> bytes:
    """A PDF whose page i shows the lines pages[i], top to bottom (metadata optional)."""
    count = len(pages)
    page_numbers = [3 + 2 * i for i in range(count)]  # each page: page object, then contents
    font_number = 3 + 2 * count
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % n for n in page_numbers), count),
    ]
    for number, lines in zip(page_numbers, pages, strict=True):
        content = b"BT /F1 11 Tf 14 TL 72 740 Td\n"
        content += b"".join(b"(%s) Tj T*\n" % _escape(line) for line in lines) + b"ET"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (number + 1, font_number)
        )
        objects.append(_stream(content))
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    info = b""
    if title is not None:
        info += b" /Title (%s)" % _escape(title)
    if author is not None:
        info += b" /Author (%s)" % _escape(author)
    if created is not None:
        info += b" /CreationDate (%s)" % created.encode()
    if info:
        objects.append(b"<<" + info + b" >>")
    return _assemble(objects, info=bool(info))


def make_scanned_pdf(pages: int = 1) -> bytes:
    """A PDF whose pages hold only an image (a 'scan'): no text layer at all."""
    page_numbers = [3 + 2 * i for i in range(pages)]
    image_number = 3 + 2 * pages
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % n for n in page_numbers), pages),
    ]
    for number in page_numbers:
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /XObject << /Im1 %d 0 R >> >> >>" % (number + 1, image_number)
        )
        objects.append(_stream(b"q 400 0 0 500 100 150 cm /Im1 Do Q"))
    pixels = bytes(range(256)) * 8  # 64 x 32 grey
    objects.append(
        _stream(
            pixels,
            b" /Type /XObject /Subtype /Image /Width 64 /Height 32 /ColorSpace /DeviceGray"
            b" /BitsPerComponent 8",
        )
    )
    return _assemble(objects)
