"""Checks a PDF's accessibility structure: what a screen reader needs from the file itself.

`problems(pdf_bytes)` opens the PDF with pikepdf and returns a list of sentences, one a fault
(an empty list: none found):

- the document is not tagged: no StructTreeRoot, or MarkInfo without Marked true;
- the document language (the catalog's Lang) is missing or is not en-GB;
- a Table element has no TH cell;
- a Table element sits inside a TD or TH cell of another table (a layout table in a data table);
- a font is not embedded: a font descriptor without FontFile, FontFile2 or FontFile3.
"""
import io

import pikepdf

LANGUAGE = "en-GB"
CELLS = {"TD", "TH"}


def _name(value) -> str:
    return str(value)[1:] if isinstance(value, pikepdf.Name) else str(value)


def _role(element, role_map) -> str:
    """The element's standard structure type (custom types through the RoleMap)."""
    kind = _name(element.get("/S", ""))
    seen = set()
    while role_map is not None and f"/{kind}" in role_map and kind not in seen:
        seen.add(kind)
        kind = _name(role_map[f"/{kind}"])
    return kind


def _kids(element) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    if isinstance(kids, pikepdf.Array):
        kids = list(kids)
    else:
        kids = [kids]
    # Integers and marked-content or object references are content, not structure elements.
    return [k for k in kids if isinstance(k, pikepdf.Dictionary) and _name(k.get("/Type", "/StructElem")) == "StructElem"]


def _walk(element, role_map, ancestors: tuple[str, ...], found: list[str], tables: list[dict], depth: int = 0) -> None:
    if depth > 200:
        found.append("The structure tree is deeper than 200 levels (a loop?)")
        return
    kind = _role(element, role_map)
    if kind == "Table":
        # A table inside a cell of an enclosing table (at any depth below that cell).
        if any(a in CELLS for a in ancestors) and "Table" in ancestors:
            found.append("A Table is nested inside a table cell (TD/TH): a layout table inside a data table")
        table = {"th": 0, "td": 0}
        tables.append(table)
        for kid in _kids(element):
            _count_cells(kid, role_map, table)
    for kid in _kids(element):
        _walk(kid, role_map, ancestors + (kind,), found, tables, depth + 1)


def _count_cells(element, role_map, table: dict, depth: int = 0) -> None:
    """Counts the table's own cells (not those of a table nested inside it)."""
    kind = _role(element, role_map)
    if kind == "Table" or depth > 50:
        return
    if kind == "TH":
        table["th"] += 1
    elif kind == "TD":
        table["td"] += 1
    for kid in _kids(element):
        _count_cells(kid, role_map, table, depth + 1)


def _fonts(pdf: pikepdf.Pdf):
    """Every font dictionary used by a page, its form XObjects and annotations' appearances."""
    seen: set = set()
    pending = []
    for page in pdf.pages:
        pending.append(page.obj.get("/Resources"))
    while pending:
        resources = pending.pop()
        if not isinstance(resources, pikepdf.Dictionary):
            continue
        key = resources.objgen if resources.is_indirect else id(resources)
        if key in seen:
            continue
        seen.add(key)
        fonts = resources.get("/Font")
        if isinstance(fonts, pikepdf.Dictionary):
            yield from fonts.items()
        xobjects = resources.get("/XObject")
        if isinstance(xobjects, pikepdf.Dictionary):
            for xobject in xobjects.values():
                if _name(xobject.get("/Subtype", "")) == "Form":
                    pending.append(xobject.get("/Resources"))


def _font_problems(pdf: pikepdf.Pdf) -> list[str]:
    found = []
    for font_name, font in _fonts(pdf):
        subtype = _name(font.get("/Subtype", ""))
        if subtype == "Type3":
            continue  # glyphs drawn by the PDF itself: nothing to embed
        descriptors = []
        if subtype == "Type0":
            for descendant in font.get("/DescendantFonts", []):
                descriptors.append(descendant.get("/FontDescriptor"))
        else:
            descriptors.append(font.get("/FontDescriptor"))
        base = _name(font.get("/BaseFont", font_name))
        for descriptor in descriptors:
            if not isinstance(descriptor, pikepdf.Dictionary):
                found.append(f"Font {base} has no font descriptor, so it is not embedded")
            elif not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                found.append(f"Font {base} is not embedded (no FontFile, FontFile2 or FontFile3)")
    return found


def problems(content: bytes) -> list[str]:
    found: list[str] = []
    with pikepdf.open(io.BytesIO(content)) as pdf:
        root = pdf.Root
        mark_info = root.get("/MarkInfo")
        if not isinstance(mark_info, pikepdf.Dictionary) or not bool(mark_info.get("/Marked", False)):
            found.append("MarkInfo Marked is not true: the PDF does not say it is tagged")
        lang = root.get("/Lang")
        if lang is None:
            found.append("The document language (Lang) is missing")
        elif str(lang) != LANGUAGE:
            found.append(f"The document language is {str(lang)!r}, not {LANGUAGE!r}")
        tree = root.get("/StructTreeRoot")
        if not isinstance(tree, pikepdf.Dictionary):
            found.append("There is no structure tree (StructTreeRoot): the PDF is not tagged")
        else:
            role_map = tree.get("/RoleMap")
            tables: list[dict] = []
            for kid in _kids(tree):
                _walk(kid, role_map, (), found, tables)
            for number, table in enumerate(tables, start=1):
                if table["th"] == 0:
                    found.append(f"Table {number} has no header cells (TH)")
        found += _font_problems(pdf)
    return found


def structure_types(content: bytes) -> list[str]:
    """Every structure element's type, in tree order (for tests that look for a kind of element)."""
    kinds: list[str] = []
    with pikepdf.open(io.BytesIO(content)) as pdf:
        tree = pdf.Root.get("/StructTreeRoot")
        if not isinstance(tree, pikepdf.Dictionary):
            return kinds
        role_map = tree.get("/RoleMap")
        pending = list(reversed(_kids(tree)))
        while pending:
            element = pending.pop()
            kinds.append(_role(element, role_map))
            pending += list(reversed(_kids(element)))
    return kinds
