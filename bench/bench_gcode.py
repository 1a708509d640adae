"""G-code analysis against OctoPrint's own analyser: speed, filament, peak memory.

Run:  .venv/bin/python bench/bench_gcode.py [--mb 60] [--skip-corpus]

In one run, on the same files: the shared corpus G-code (../shared/corpus/gcode/) and two
generated spirals of --mb MB (TOOLCHAIN.md's generator; relative and absolute E). OctoPrint
is `octoprint.util.gcodeInterpreter.gcode` in its own venv (.peers/octoprint, see
scripts/setup.sh); ours is `analysis.analyse_gcode`. Both run in child processes, one per
file, measured the same way: CPU seconds of the analysis call (process_time) and the
child's ru_maxrss, so the memory figures compare like with like.

What ran, honestly: OctoPrint always estimates the time. Ours estimates it only when the
slicer states none (the slicer's planner is better than a distance/feed sum), so on the
corpus files that state a time and on the spirals (which carry a PrusaSlicer-style time
footer, as every real slicer writes) ours does not; the "ours + estimate" column forces
our estimator on, for the files where the difference matters.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "analysis")]

from gcode_files import spiral  # noqa: E402

CORPUS = REPO / ".." / "shared" / "corpus" / "gcode"
OCTOPRINT_PYTHON = REPO / ".peers" / "octoprint" / "bin" / "python"

OCTOPRINT_CHILD = r"""
import json, resource, sys, time
from octoprint.util.gcodeInterpreter import gcode
path = sys.argv[1]
g = gcode(progress_callback=None)
started = time.process_time()
g.load(path, speedx=6000, speedy=6000, offsets=[(0, 0)] * 10, max_extruders=10)
result = g.get_result()
seconds = time.process_time() - started
print(json.dumps({"seconds": seconds, "mm": sum(result["extrusion_length"]),
                  "minutes": result["total_time"],
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

OURS_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from analysis import analyse_gcode
path, estimate = Path(sys.argv[1]), sys.argv[2] == "estimate"
started = time.process_time()
result = analyse_gcode(path, estimate_time=True if estimate else None)
seconds = time.process_time() - started
print(json.dumps({"seconds": seconds, "mm": str(result.total_mm),
                  "time_source": result.time_source, "our_time_s": result.our_time_s,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def child(python: Path | str, script: str, *args: str) -> dict[str, object]:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(python), "-c", script, *args], capture_output=True, text=True,
                          env=env, check=False, timeout=1800)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr else "failed"
        return {"error": last.rsplit(": ", 1)[-1][:40]}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rate(size: int, run: dict[str, object]) -> str:
    seconds = run.get("seconds")
    if not isinstance(seconds, float) or seconds <= 0:
        return "-"
    return f"{size / seconds / 1e6:7.1f}"


def row(path: Path, *, with_estimate: bool) -> tuple[float, float]:
    size = path.stat().st_size
    theirs = child(OCTOPRINT_PYTHON, OCTOPRINT_CHILD, str(path)) \
        if path.suffix != ".bgcode" else {"error": "no bgcode"}
    ours = child(sys.executable, OURS_CHILD, str(path), "default")
    forced = child(sys.executable, OURS_CHILD, str(path), "estimate") if with_estimate else {}
    their_mm = theirs.get("mm")
    their_mm_text = f"{their_mm:12.2f}" if isinstance(their_mm, float) else f"{'-':>12}"
    ran = "est" if ours.get("time_source") == "ours" else "slc"
    ratio = (float(str(theirs["seconds"])) / float(str(ours["seconds"]))
             if "seconds" in theirs and "seconds" in ours else 0.0)
    print(f"{path.name[:40]:40} {size / 1e6:7.2f} {rate(size, theirs)} {rate(size, ours)} "
          f"{ran} {rate(size, forced) if forced else '      -'} {ratio:6.1f}x "
          f"{their_mm_text} {ours.get('mm', ours.get('error'))!s:>12} "
          f"{int(str(theirs.get('maxrss_kib', 0))) / 1024:7.1f} "
          f"{int(str(ours.get('maxrss_kib', 0))) / 1024:7.1f}")
    return (float(str(theirs.get("seconds", 0))), float(str(ours.get("seconds", 0))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=60.0, help="size of each spiral")
    parser.add_argument("--skip-corpus", action="store_true")
    args = parser.parse_args()
    if not OCTOPRINT_PYTHON.exists():
        print(f"OctoPrint's venv is missing ({OCTOPRINT_PYTHON}): run scripts/setup.sh",
              file=sys.stderr)
        return 2
    print(f"{'file':40} {'MB':>7} {'OP MB/s':>7} {'our MB/s':>7} t   {'+est':>7} {'ratio':>7} "
          f"{'OP mm':>12} {'our mm':>12} {'OP MiB':>7} {'our MiB':>7}")
    print("(t: which time ours used: slc = the slicer's, est = our estimate ran; +est: our "
          "MB/s with the estimate forced; ratio: OctoPrint CPU s / ours)")
    totals = [0.0, 0.0]
    if not args.skip_corpus:
        for path in sorted(CORPUS.glob("*.gcode")) + sorted(CORPUS.glob("*.bgcode")):
            theirs, ours = row(path, with_estimate=True)
            totals[0] += theirs
            totals[1] += ours
        size = sum(p.stat().st_size for p in CORPUS.glob("*.gcode"))
        print(f"corpus text G-code: {size / 1e6:.2f} MB, OctoPrint {totals[0]:.2f} s, "
              f"ours {totals[1]:.2f} s")
    with tempfile.TemporaryDirectory(prefix="bench-gcode-") as tmp:
        for relative in (True, False):
            path = Path(tmp) / f"spiral_{'relative' if relative else 'absolute'}.gcode"
            want = spiral(path, args.mb, relative=relative)
            print(f"{path.name}: the generator's E sum {want:.2f} mm")
            row(path, with_estimate=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
