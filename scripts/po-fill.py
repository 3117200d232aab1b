#!/usr/bin/env python
"""Update the Chinese catalogue and fill in translations, safely when several people work at once.

    scripts/po-fill.py [TRANSLATIONS.json]

1. runs `makemessages -l zh_Hans` over the project (new msgids appear, vanished ones become obsolete);
2. sets each msgid of the JSON object {"English msgid": "中文", ...} (a list of strings for a plural
   entry, "msgctxt\\x04msgid" for an entry with a context) and clears its fuzzy flag;
3. prints the entries still untranslated or fuzzy, so nothing is forgotten.

The whole run holds an exclusive lock on var/po.lock, so two runs never interleave their writes.
"""

import fcntl
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "site" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
IGNORED = [".venv", "node_modules", "tests", "bench", "var"]


def makemessages() -> None:
    args = [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"]
    args += [f"--ignore={name}" for name in IGNORED]
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def fill(translations: dict) -> list[str]:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    for key, value in translations.items():
        context, _sep, msgid = key.rpartition("\x04")
        message = catalog.get(msgid, context=context or None)
        if message is None:
            print(f"not in the catalogue (no longer used?): {key!r}", file=sys.stderr)
            continue
        message.string = tuple(value) if isinstance(value, list) else value
        message.flags.discard("fuzzy")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=79, sort_output=False)
    # Back to gettext's own layout, so makemessages and this script do not rewrap each other's lines.
    subprocess.run(["msgcat", "-o", str(PO), str(PO)], check=True)  # noqa: S603, S607
    return missing


def main() -> int:
    translations = {}
    if len(sys.argv) > 1:
        translations = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    lock_path = ROOT / "var" / "po.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        makemessages()
        missing = fill(translations)
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    print(f"{len(missing)} entries still need a translation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
