"""HTML to PDF. The only module that imports WeasyPrint (STYLE.md rule 15).

The print stylesheet (letter.css beside this file) and the font configuration are parsed once per
process and reused: a warm worker renders a one-page letter in about 60 ms, a cold one in about
half a second (see LIBRARIES.md).

Nothing is fetched from the network: the URL fetcher serves only `file:` URLs of files found by
the static files finders (the council logo) and `data:` URLs. The wording of a letter is escaped
before it gets here, so it cannot add images or stylesheets anyway; this is the second lock.

Output is PDF/UA-1 (tagged, with the document language and title), which WeasyPrint 70 supports.
"""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlparse

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.text.fonts import FontConfiguration

STYLESHEET = Path(__file__).with_name("letter.css")
PDF_VARIANT = "pdf/ua-1"

#: "Page 1 of 2" at the foot of each page (a one-page letter says "Page 1 of 1": one layout pass
#: per letter matters more in a night's run than the missing words would).
PAGE_NUMBERS_CSS = """
@page { @bottom-right { content: "Page " counter(page) " of " counter(pages); } }
"""


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


class _StaticOnlyFetcher(weasyprint.URLFetcher):
    """Fetches local static files and data: URLs only; anything else fails (and is left out)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        if url.startswith("file:"):
            path = Path(unquote(urlparse(url).path)).resolve()
            if not _is_static_file(path):
                raise ValueError(f"Letters may only use static files, not {url}")
        return super().fetch(url, headers)


def _is_static_file(path: Path) -> bool:
    roots = [Path(p).resolve() for p in _static_roots()]
    return any(path.is_relative_to(root) for root in roots)


@lru_cache(maxsize=1)
def _static_roots() -> tuple[str, ...]:
    roots = [str(STYLESHEET.parent)]
    for finder in finders.get_finders():
        for _path, storage in finder.list([]):
            location = getattr(storage, "location", None)
            if location and location not in roots:
                roots.append(location)
    return tuple(roots)


def static_file_url(static_path: str) -> str:
    """A file: URL for a static file (such as settings.COUNCIL_LOGO) for use in letter HTML."""
    found = finders.find(static_path)
    if not found:
        raise FileNotFoundError(f"Static file {static_path} not found")
    return Path(found).resolve().as_uri()


@lru_cache(maxsize=1)
def council_logo_url() -> str:
    return static_file_url(settings.COUNCIL_LOGO)


@lru_cache(maxsize=1)
def _fonts() -> FontConfiguration:
    return FontConfiguration()


@lru_cache(maxsize=1)
def _stylesheets() -> tuple[weasyprint.CSS, weasyprint.CSS]:
    fonts = _fonts()
    base = weasyprint.CSS(filename=str(STYLESHEET), font_config=fonts, url_fetcher=_StaticOnlyFetcher())
    numbers = weasyprint.CSS(string=PAGE_NUMBERS_CSS, font_config=fonts)
    return base, numbers


def render_pdf(html: str) -> RenderedPdf:
    """Render a letter's HTML to PDF, laid out once, with page numbers."""
    base, numbers = _stylesheets()
    document = weasyprint.HTML(string=html, base_url=STYLESHEET.parent.as_uri() + "/",
                               url_fetcher=_StaticOnlyFetcher())
    fonts = _fonts()
    rendered = document.render(font_config=fonts, stylesheets=[base, numbers], pdf_variant=PDF_VARIANT)
    # The variant goes to both steps: render() tags the layout, write_pdf() writes the metadata.
    return RenderedPdf(content=rendered.write_pdf(pdf_variant=PDF_VARIANT), pages=len(rendered.pages))
