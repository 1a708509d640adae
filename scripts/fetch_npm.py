"""Fetch one npm package's tarball from the registry, check its sha512 integrity (the
value ``npm view PKG@VERSION dist.integrity`` prints) and unpack it into a folder.

For test-only browser libraries (axe-core) that the tests serve to Chromium from disk:
no Node.js or npm is needed on the machine, and a changed tarball is refused.
Usage: fetch_npm.py NAME VERSION SHA512-INTEGRITY TARGET_DIR
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path


def fetch(name: str, version: str, integrity: str, target: Path) -> None:
    url = f"https://registry.npmjs.org/{name}/-/{name.split('/')[-1]}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=60) as answer:
        data = answer.read()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != integrity:
        raise SystemExit(f"fetch_npm: {url}: integrity {digest} is not the pinned {integrity}")
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(staging, filter="data")
    shutil.rmtree(target, ignore_errors=True)
    (staging / "package").rename(target)
    staging.rmdir()
    (target / ".stamp").write_text(f"{name}@{version} {integrity}\n")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    fetch(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))
