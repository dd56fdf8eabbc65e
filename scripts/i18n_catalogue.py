"""The two steps of scripts/i18n-update that pybabel cannot take by itself.

`add-codes POT`: the codes the pages show have no English text in the source to extract;
they are added to the template under their message context (trajectory.web.codes).
`fill-english PO`: English is the source language, so a new sentence's English
translation is its msgid; a code's English word is left empty for a person to write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from trajectory.web.codes import shown_codes


def add_codes(pot: Path) -> None:
    with pot.open("rb") as f:
        template = read_po(f)
    for context, found in shown_codes().items():
        for code in sorted(found):
            template.add(code, context=context)
    with pot.open("wb") as f:
        write_po(f, template, width=100, sort_output=True)


def fill_english(po: Path) -> None:
    with po.open("rb") as f:
        catalogue = read_po(f)
    for message in catalogue:
        if message.id and not message.context and not message.string:
            message.string = message.id
    with po.open("wb") as f:
        write_po(f, catalogue, width=100)


if __name__ == "__main__":
    step, path = sys.argv[1], Path(sys.argv[2])
    {"add-codes": add_codes, "fill-english": fill_english}[step](path)
