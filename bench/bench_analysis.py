"""Document analysis against Ghostscript's inkcov: speed, per-page accuracy, memory.

Run:  .venv/bin/python bench/bench_analysis.py [--large-pages 2000]

In one run, on the same files: the shared corpus jobs, the generated mixed-document
suite (tests/analysis/mixed_documents.py) and a large generated document.
For every page both classifications are compared with the truth (corpus MANIFEST.md,
or the construction of a generated file). inkcov gives C, M, Y, K coverage per page;
it is read two ways: the usual rule (colour when C, M or Y is non-zero) and a kinder
"balanced" rule (colour only when C, M and Y are not all equal, since inkcov turns
neutral RGB greys into equal C, M and Y). Our time is measured in-process (the
kiosk calls the library), inkcov's as the `gs` process a script would run. PostScript is
reported apart: our figure there includes Ghostscript's own conversion to PDF.
Peak memory: ru_maxrss of a fresh process analysing the large document, compared with
the same process on a tenth of the pages (bounded memory means about the same figure).
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "analysis")]

from corpus_truth import JOBS, PAGE_COUNT_TRUTH, PDF_TRUTH, POSTSCRIPT_TRUTH  # noqa: E402
from mixed_documents import build_large, build_suite  # noqa: E402

from analysis import analyse_document  # noqa: E402

BALANCE = 0.0


@dataclass
class Tally:
    """Pages, seconds and per-page agreement for one tool on one group of files."""

    pages: int = 0
    seconds: float = 0.0
    right: int = 0
    wrong: list[str] = field(default_factory=list)

    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def inkcov(path: Path) -> tuple[list[tuple[float, float, float, float]], float]:
    """Per-page CMYK coverage from `gs -sDEVICE=inkcov`, and the wall time it took."""
    started = time.perf_counter()
    done = subprocess.run(
        ["gs", "-q", "-o", "-", "-sDEVICE=inkcov", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    pages = []
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[4] == "CMYK":
            c, m, y, k = (float(p) for p in parts[:4])
            pages.append((c, m, y, k))
    return pages, elapsed


def inkcov_class(cmyk: tuple[float, float, float, float], balanced: bool) -> str:
    c, m, y, k = cmyk
    coloured = max(c, m, y) - min(c, m, y) > BALANCE if balanced else max(c, m, y) > 0
    if coloured:
        return "colour"
    return "mono" if max(c, m, y, k) > 0 else "blank"


def compare(tally: Tally, name: str, got: list[str], truth: list[str], two_class: bool) -> None:
    def key(value: str) -> str:
        return "colour" if value == "colour" else "not colour" if two_class else value

    for number in range(max(len(got), len(truth))):
        g = got[number] if number < len(got) else "missing"
        t = truth[number] if number < len(truth) else "absent"
        if key(g) == key(t):
            tally.right += 1
        else:
            tally.wrong.append(f"{name} p{number + 1}: {g} (truth {t})")


def truth_sets(work: Path) -> list[tuple[str, Path, list[str], bool, str]]:
    """(name, file, per-page truth, compare colour/not-colour only, group)."""
    items: list[tuple[str, Path, list[str], bool, str]] = []
    if JOBS.is_dir():
        for name, pages in PDF_TRUTH.items():
            items.append((name, JOBS / name, [c for c, _ in pages], False, "pdf"))
        for name, (count, colour) in POSTSCRIPT_TRUTH.items():
            truth = ["colour" if n in colour else "mono" for n in range(1, count + 1)]
            items.append((name, JOBS / name, truth, True, "postscript"))
        for name, (count, colour) in PAGE_COUNT_TRUTH.items():
            truth = ["colour" if n in colour else "mono" for n in range(1, count + 1)]
            items.append((name, JOBS / name, truth, True, "printer language"))
    for case in build_suite(work):
        group = {
            ".pdf": "pdf",
            ".xps": "printer language",
            ".pxl": "printer language",
            ".pcl": "printer language",
        }.get(case.path.suffix, "postscript")
        items.append((case.name, case.path, [c for c, _ in case.truth], False, group))
    return items


def peak_rss_kib(path: Path) -> tuple[int, int]:
    """(RSS after imports, peak RSS after analysing ``path``) of a fresh process, KiB."""
    code = (
        "import resource, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from analysis import analyse_document\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "analyse_document(sys.argv[1])\n"
        "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1])


def inkcov_peak_rss_kib(path: Path) -> int:
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(['gs', '-q', '-o', '/dev/null', '-sDEVICE=inkcov', sys.argv[1]])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    return int(
        subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
        ).stdout
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large-pages", type=int, default=2000)
    args = parser.parse_args()
    if shutil.which("gs") is None:
        print("Ghostscript (gs) is needed for the inkcov comparison", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as work_dir:
        work = Path(work_dir)
        ours: dict[str, Tally] = {}
        ink: dict[str, Tally] = {}
        ink_balanced: dict[str, Tally] = {}
        analyse_document(JOBS / "pdfjs__sizes.pdf" if JOBS.is_dir() else build_suite(work)[0].path)
        for name, path, truth, two_class, group in truth_sets(work):
            started = time.perf_counter()
            analysis = analyse_document(path)
            elapsed = time.perf_counter() - started
            mine = ours.setdefault(group, Tally())
            mine.pages += analysis.page_count
            mine.seconds += elapsed
            compare(mine, name, [p.colour.value for p in analysis.pages], truth, two_class)
            if group == "printer language":
                continue  # Debian's Ghostscript has no PCL/XPS interpreter
            gs_input = path
            if path.suffix == ".gz":  # gs does not read gzip: give it the expanded file
                gs_input = work / path.stem
                gs_input.write_bytes(gzip.decompress(path.read_bytes()))
            coverage, gs_seconds = inkcov(gs_input)
            for balanced, table in ((False, ink), (True, ink_balanced)):
                theirs = table.setdefault(group, Tally())
                theirs.pages += len(coverage)
                theirs.seconds += gs_seconds
                compare(
                    theirs, name, [inkcov_class(c, balanced) for c in coverage], truth, two_class
                )

        print("== per-page classification against the truth, and speed ==")
        header = (
            f"{'group':18} {'tool':24} {'pages':>6} {'right':>6} {'pages/s':>9} {'speed-up':>9}"
        )
        print(header)
        for group, mine in ours.items():
            rows = [("ours", mine)]
            if group in ink:
                rows += [
                    ("inkcov (C|M|Y>0)", ink[group]),
                    ("inkcov (balanced CMY)", ink_balanced[group]),
                ]
            for tool, tally in rows:
                ratio = mine.rate() / tally.rate() if tool != "ours" and tally.rate() else 0
                total = tally.right + len(tally.wrong)
                print(
                    f"{group:18} {tool:24} {tally.pages:6d} {tally.right:4d}/{total:<4d}"
                    f"{tally.rate():9.1f} {'' if tool == 'ours' else f'{ratio:8.1f}x'}"
                )
        for label, table in (
            ("ours", ours),
            ("inkcov (C|M|Y>0)", ink),
            ("inkcov (balanced CMY)", ink_balanced),
        ):
            wrong = [w for t in table.values() for w in t.wrong]
            print(f"\n{label}: {len(wrong)} page(s) misclassified")
            for line in wrong[:40]:
                print("   ", line)

        print(f"\n== large generated document: {args.large_pages} pages ==")
        large = work / "large.pdf"
        truth = build_large(large, args.large_pages)
        started = time.perf_counter()
        analysis = analyse_document(large)
        our_seconds = time.perf_counter() - started
        coverage, gs_seconds = inkcov(large)
        our_right = sum(
            p.colour.value == t for p, (t, _) in zip(analysis.pages, truth, strict=True)
        )
        gs_right = {
            balanced: sum(
                inkcov_class(c, balanced) == t for c, (t, _) in zip(coverage, truth, strict=False)
            )
            for balanced in (False, True)
        }
        print(
            f"ours   {args.large_pages / our_seconds:8.1f} pages/s  {our_right}/{len(truth)} right"
        )
        print(
            f"inkcov {len(coverage) / gs_seconds:8.1f} pages/s  {gs_right[False]}/{len(truth)} "
            f"right (C|M|Y>0), {gs_right[True]}/{len(truth)} (balanced)   "
            f"speed-up {gs_seconds / our_seconds:.1f}x"
        )
        small = work / "small.pdf"
        build_large(small, max(1, args.large_pages // 10))
        _base_small, peak_small = peak_rss_kib(small)
        base_large, peak_large = peak_rss_kib(large)
        print(
            f"peak RSS ours: {peak_small / 1024:.0f} MiB for {args.large_pages // 10} pages, "
            f"{peak_large / 1024:.0f} MiB for {args.large_pages} pages "
            f"(after imports: {base_large / 1024:.0f} MiB)"
        )
        print(
            f"peak RSS inkcov (gs process): {inkcov_peak_rss_kib(large) / 1024:.0f} MiB "
            f"for {args.large_pages} pages"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
