"""citebot's Discord layer: client, cogs, rendering. Retrieval lives in `index`."""
