#!/usr/bin/env python3
"""Writes the Yocto layer's fetch lists from the project's lock files, so the recipes build
offline from exactly what the project pins:

- recipes-feedline/feedline/feedline-crates.inc from Cargo.lock: one crate:// URI and its sha256
  per crates.io dependency, as poky's cargo class fetches them (what
  `bitbake -c update_crates feedline` would write);
- recipes-feedline/feedline-webui/files/npm-shrinkwrap.json from web-ui/package-lock.json, with
  the registry tarball address (`resolved`) that bitbake's npmsw fetcher needs added to each
  package (npm here records none).

Run after changing either lock file; with --check it only says whether they are in sync (the
test suite runs that)."""
import json
import pathlib
import sys
import tomllib

root = pathlib.Path(__file__).resolve().parent.parent
lock = tomllib.loads((root / "Cargo.lock").read_text())
out = root / "yocto/meta-feedline/recipes-feedline/feedline/feedline-crates.inc"

crates = [
    p
    for p in sorted(lock["package"], key=lambda p: (p["name"], p["version"]))
    if p.get("source", "").startswith("registry+")
]
uris = [f"crate://crates.io/{p['name']}/{p['version']}" for p in crates]
lines = [
    "# Generated from Cargo.lock by scripts/yocto-sources.py; do not edit.",
    "",
]
for i, uri in enumerate(uris):
    head = 'SRC_URI += "' if i == 0 else " " * 12
    tail = '"' if i == len(uris) - 1 else " \\"
    lines.append(f"{head}{uri}{tail}")
sums = [f'SRC_URI[{p["name"]}-{p["version"]}.sha256sum] = "{p["checksum"]}"' for p in crates]
lines.append("")
text = "\n".join(lines + sums) + "\n"

npm_lock = json.loads((root / "web-ui/package-lock.json").read_text())
for path, package in npm_lock.get("packages", {}).items():
    if not path.startswith("node_modules/") or "version" not in package:
        continue
    name = path.rsplit("node_modules/", 1)[1]
    tarball = f"{name.rsplit('/', 1)[-1]}-{package['version']}.tgz"
    package["resolved"] = f"https://registry.npmjs.org/{name}/-/{tarball}"
shrinkwrap = json.dumps(npm_lock, indent=2) + "\n"
shrinkwrap_out = root / "yocto/meta-feedline/recipes-feedline/feedline-webui/files/npm-shrinkwrap.json"

outputs = [(out, text), (shrinkwrap_out, shrinkwrap)]
if "--check" in sys.argv:
    stale = [str(o.relative_to(root)) for o, t in outputs if not o.exists() or o.read_text() != t]
    if stale:
        sys.exit(f"out of date: {', '.join(stale)}: run scripts/yocto-sources.py")
else:
    for o, t in outputs:
        o.parent.mkdir(parents=True, exist_ok=True)
        o.write_text(t)
