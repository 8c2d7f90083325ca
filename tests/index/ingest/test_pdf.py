"""PDFs in the articles folder: text with page breaks as paragraph breaks, a title from the
metadata or the first line, and a scanned (image-only) PDF reported as such."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.ingest.pdf import PdfError, read_pdf
from index.ingest.readers import load_articles
from tests.pdfs import make_pdf, make_scanned_pdf

PAGE_ONE = [
    "Harbour Authority annual report 2023",
    "Passenger numbers on the harbour ferries rose to 2.4 million in 2023, the",
    "highest since the route opened, and the authority plans two more electric",
    "ferries for 2025.",
]
PAGE_TWO = ["The new quay cost 12 million euros and opened in March.", "Revenue grew by a fifth."]


def test_a_pdf_in_the_folder_becomes_an_article(tmp_path: Path) -> None:
    pdf = make_pdf(
        [PAGE_ONE, PAGE_TWO],
        title="Annual report 2023",
        author="Harbour Authority",
        created="D:20240215090000+01'00'",
    )
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "annual.pdf").write_bytes(pdf)
    loaded = load_articles(tmp_path)
    assert loaded.failures == []
    (article,) = loaded.articles
    assert (article.id, article.path) == ("reports/annual", "reports/annual.pdf")
    assert (article.title, article.author) == ("Annual report 2023", "Harbour Authority")
    assert article.published == "2024-02-15"
    assert article.text == (
        "Harbour Authority annual report 2023\n\n"
        "Passenger numbers on the harbour ferries rose to 2.4 million in 2023, the highest "
        "since the route opened, and the authority plans two more electric ferries for 2025."
        "\n\nThe new quay cost 12 million euros and opened in March. Revenue grew by a fifth."
    )


def test_without_a_metadata_title_the_first_line_is_the_title(tmp_path: Path) -> None:
    (tmp_path / "untitled.pdf").write_bytes(make_pdf([PAGE_ONE]))
    (tmp_path / "word.pdf").write_bytes(make_pdf([PAGE_TWO], title="Microsoft Word - x.docx"))
    titles = {a.id: a.title for a in load_articles(tmp_path).articles}
    assert titles == {
        "untitled": "Harbour Authority annual report 2023",
        "word": "The new quay cost 12 million euros and opened in March.",
    }


def test_every_page_break_is_a_paragraph_break() -> None:
    text = read_pdf(make_pdf([["One long line on page one."], ["Page two."], ["Three."]])).text
    assert text == "One long line on page one.\n\nPage two.\n\nThree."


def test_a_scanned_pdf_is_reported_and_the_rest_still_load(tmp_path: Path) -> None:
    (tmp_path / "scan.pdf").write_bytes(make_scanned_pdf(pages=3))
    (tmp_path / "cut.pdf").write_bytes(make_pdf([PAGE_ONE])[:200])
    (tmp_path / "fake.pdf").write_text("this is not a pdf at all")
    (tmp_path / "good.pdf").write_bytes(make_pdf([PAGE_TWO]))
    loaded = load_articles(tmp_path)
    assert [a.id for a in loaded.articles] == ["good"]
    errors = {f.path: f.error for f in loaded.failures}
    assert errors["scan.pdf"] == (
        "scanned PDF with no text layer (its 3 pages have no text): run OCR on it to index it"
    )
    assert errors["cut.pdf"].startswith("damaged PDF")
    assert errors["fake.pdf"] == "not a PDF file (no %PDF- header)"


def test_read_pdf_refuses_what_is_not_a_pdf() -> None:
    with pytest.raises(PdfError, match="no %PDF- header"):
        read_pdf(b"<html>not a pdf</html>")
