"""The wording language of letters. It cannot run code: it is not Django's template language.

What it understands, and nothing else:
- `{{ field }}` (spaces optional), where `field` is one of the letter type's fields;
- paragraphs separated by blank lines (lines within a paragraph are kept as line breaks);
- lines starting "- " form a bulleted list;
- a line starting "## " is a heading;
- a block field (such as `{{ statement_table }}`) on a line of its own.

Anything else that looks like template syntax (`{%`, `{#`, a `{{ }}` with dots, filters or an
unknown name, an unmatched `{{` or `}}`) is refused with the line number, so a person editing the
wording learns what to change. Values are escaped when rendered, except block fields, whose HTML
is built by code.
"""
import re
from typing import Any

from django.utils.html import escape

from .types import LetterType

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
#: Markers of other template languages, with what to tell the editor.
FORBIDDEN = {
    "{%": "'{%' starts a template tag, which letters cannot use",
    "%}": "'%}' ends a template tag, which letters cannot use",
    "{#": "'{#' starts a template comment, which letters cannot use",
    "#}": "'#}' ends a template comment, which letters cannot use",
    "{{": "'{{' has no matching '}}'",
    "}}": "'}}' has no matching '{{'",
}
MAX_LENGTH = 20_000


class TemplateRefused(ValueError):
    """The wording uses something the letter language does not allow. The message says what."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _fields_hint(letter_type: LetterType) -> str:
    return "Fields you can use: " + ", ".join(sorted(letter_type.fields)) + "."


def _check_line(letter_type: LetterType, number: int, line: str) -> None:
    for match in PLACEHOLDER.finditer(line):
        inner = match.group(1)
        name = NAME.fullmatch(inner)
        shown = match.group(0)
        if name is None and "|" in inner:
            raise TemplateRefused(f"Line {number}: {shown} uses a filter, which letters cannot use. "
                                  f"Write only a field name, like {{{{ client_name }}}}. " + _fields_hint(letter_type))
        field = name.group(1) if name else None
        if field not in letter_type.fields:
            raise TemplateRefused(f"Line {number}: {shown} is not a field of this letter. " + _fields_hint(letter_type))
        if field in letter_type.block_fields and line.strip() != shown:
            raise TemplateRefused(f"Line {number}: {shown} must be on a line of its own.")
    rest = PLACEHOLDER.sub("", line)
    for marker, problem in FORBIDDEN.items():
        if marker in rest:
            raise TemplateRefused(f"Line {number}: {problem}. Use only {{{{ field }}}} placeholders. "
                                  + _fields_hint(letter_type))


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def validate(letter_type: LetterType, text: str) -> None:
    """Raise TemplateRefused if the wording uses anything but this type's {{ field }}s."""
    if len(text) > MAX_LENGTH:
        raise TemplateRefused(f"The wording is too long: keep it under {MAX_LENGTH:,} characters.")
    for number, line in enumerate(_lines(text), start=1):
        _check_line(letter_type, number, line)


def validate_inline(letter_type: LetterType, text: str) -> None:
    """As `validate`, for one line of text such as a subject: no block fields."""
    if "\n" in text.strip() or "\r" in text.strip():
        raise TemplateRefused("Write the subject on one line.")
    validate(letter_type, text)
    for match in PLACEHOLDER.finditer(text):
        if match.group(1).strip() in letter_type.block_fields:
            raise TemplateRefused(f"{match.group(0)} cannot be used in the subject.")


def _fill(letter_type: LetterType, line: str, context: dict[str, Any]) -> str:
    """One line of inline text as HTML: the text and every value escaped."""
    out, pos = [], 0
    for match in PLACEHOLDER.finditer(line):
        out.append(escape(line[pos:match.start()]))
        value = context.get(match.group(1).strip())
        out.append(escape("" if value is None else str(value)))
        pos = match.end()
    out.append(escape(line[pos:]))
    return "".join(out)


def render_inline(letter_type: LetterType, text: str, context: dict[str, Any]) -> str:
    """A subject line as HTML (escaped)."""
    validate_inline(letter_type, text)
    return _fill(letter_type, text.strip(), context)


def _block_field(letter_type: LetterType, line: str) -> str | None:
    match = PLACEHOLDER.fullmatch(line.strip())
    if match and match.group(1).strip() in letter_type.block_fields:
        return match.group(1).strip()
    return None


def render(letter_type: LetterType, text: str, context: dict[str, Any]) -> str:
    """The wording as HTML. Validates first, so a refused template never renders."""
    validate(letter_type, text)
    html: list[str] = []
    paragraph: list[str] = []
    bullets: list[str] = []

    def flush() -> None:
        if paragraph:
            html.append("<p>" + "<br>\n".join(paragraph) + "</p>")
            paragraph.clear()
        if bullets:
            html.append("<ul>" + "".join(f"<li>{b}</li>" for b in bullets) + "</ul>")
            bullets.clear()

    for raw in _lines(text):
        line = raw.strip()
        block = _block_field(letter_type, line)
        if not line:
            flush()
        elif block:
            flush()
            # Trusted: block values are built by code with every value escaped (see the letter type).
            html.append(str(context.get(block) or ""))
        elif line.startswith("## "):
            flush()
            html.append(f"<h2>{_fill(letter_type, line[3:].strip(), context)}</h2>")
        elif line.startswith("- "):
            if paragraph:
                flush()
            bullets.append(_fill(letter_type, line[2:].strip(), context))
        else:
            if bullets:
                flush()
            paragraph.append(_fill(letter_type, line, context))
    flush()
    return "\n".join(html)
