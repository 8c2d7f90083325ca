"""Articles from the web: pages and PDFs by URL, RSS/Atom feeds, fetched politely and never
from an internal address (`guard.py`), written into the articles folder as Markdown."""
