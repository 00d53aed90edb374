"""Letters: the registry of letter types, their editable wording, and producing PDFs.

- `types`: the registry (`register_letter_type`, `get_letter_type`).
- `safe_template`: the wording language ({{ field }} placeholders only; cannot run code).
- `pdf`: the only module that imports WeasyPrint.
- `services`: template versions and `letter_produce`.

Importing this package registers casework's own letter types.
"""
from . import statement  # noqa: F401  (registers account_statement)
from .types import LetterType, UnknownLetterType, get_letter_type, letter_types, register_letter_type

__all__ = ["LetterType", "UnknownLetterType", "get_letter_type", "letter_types", "register_letter_type"]
