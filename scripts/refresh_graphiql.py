"""Refresh the GraphiQL assets the gateway serves itself (``meetingmesh/static/graphiql``).

Run ``python scripts/refresh_graphiql.py`` after changing a version in ``PINS``: it asks
the npm registry for each pinned package (``npm pack``, no install, no scripts run),
copies the browser builds and each package's licence into the package, and rewrites
``VERSIONS.json`` (name, version, file, sha256), which the test suite checks the files
against. Nothing else in that folder is touched (``meetingmesh.js`` is ours).

The pins are GraphiQL's last line with a UMD build (4.x; 5.x is ESM-only and needs a
bundler) and the React 18 UMD builds it runs on (React 19 ships no UMD build).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "meetingmesh" / "static" / "graphiql"

#: npm package -> exact version.
PINS = {"graphiql": "4.1.2", "react": "18.3.1", "react-dom": "18.3.1"}

#: (package, path inside its tarball) -> file name served by the gateway.
FILES = {
    ("react", "umd/react.production.min.js"): "react.production.min.js",
    ("react", "LICENSE"): "LICENSE.react",
    ("react-dom", "umd/react-dom.production.min.js"): "react-dom.production.min.js",
    ("react-dom", "LICENSE"): "LICENSE.react-dom",
    ("graphiql", "graphiql.min.js"): "graphiql.min.js",
    ("graphiql", "graphiql.min.css"): "graphiql.min.css",
    ("graphiql", "LICENSE"): "LICENSE.graphiql",
}


def pack(package: str, version: str, into: Path) -> Path:
    """Download one package tarball from the npm registry with npm itself."""
    out = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    filename: str = json.loads(out)[0]["filename"]
    return into / filename


def main() -> int:
    """Download, copy and record every pinned asset."""
    TARGET.mkdir(parents=True, exist_ok=True)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        tarballs = {name: pack(name, version, Path(tmp)) for name, version in PINS.items()}
        for (package, inner), served in FILES.items():
            with tarfile.open(tarballs[package]) as archive:
                source = archive.extractfile(f"package/{inner}")
                if source is None:
                    raise SystemExit(f"{package}@{PINS[package]} has no {inner}")
                with (TARGET / served).open("wb") as target:
                    shutil.copyfileobj(source, target)
            digest = hashlib.sha256((TARGET / served).read_bytes()).hexdigest()
            records.append(
                {
                    "package": package,
                    "version": PINS[package],
                    "source": inner,
                    "file": served,
                    "sha256": digest,
                }
            )
            print(f"{served:<30} {package}@{PINS[package]} {inner}")
    (TARGET / "VERSIONS.json").write_text(json.dumps(records, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
