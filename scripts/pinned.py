"""Exits 0 when every `name==version` line of a requirements file is installed at that version."""
import sys
from importlib import metadata

missing = []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, wanted = line.partition("==")
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        have = None
    if have != wanted:
        missing.append(f"{name}: want {wanted}, have {have}")
if missing:
    print("\n".join(missing), file=sys.stderr)
    sys.exit(1)
