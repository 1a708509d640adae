"""Drive the real kiosk app in a real window from a scenario, for UI tests.

A scenario is a generator run on the Kivy thread: it yields a condition (a callable
returning bool) and is resumed once the condition holds, or fails after a timeout.
Touches are real touch events at a widget's centre, dispatched through the window like
a finger's, so hit-testing and button release logic are exercised.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

Condition = Callable[[], bool]
Scenario = Generator[Condition, None, None]

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_NO_CONFIG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_CLIPBOARD", "dummy")


def artifacts_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "test-artifacts"
    path = Path(os.environ.get("PRINTKIOSK_TEST_ARTIFACTS", default)) / "screens"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_screens() -> Path:
    """Empty the screenshot folder, once per test run (tests/ui/conftest.py).

    Screenshots are what a reviewer looks at: one left from an earlier run, by a test
    since renamed or failing before its screenshot, would show a screen this code no
    longer draws. Only PNG files are removed; the folder itself stays.
    """
    folder = artifacts_dir()
    for picture in folder.glob("*.png"):
        picture.unlink()
    return folder


def kiosk_config(
    backend_url: str,
    *,
    state_dir: str | None = None,
    cups_port: str | None = None,
    spool_dir: str | None = None,
    **tables: dict[str, Any],
) -> Any:
    """The example MFP kiosk file made to run here: this backend, the simulated reader,
    a fresh state directory (no outbox shared between runs), and with ``cups_port`` the
    test's private CUPS "kiosk" queue priced by the campus list; ``tables`` update the
    file's tables (``terminal={"idle_timeout_s": 10}``)."""
    import tempfile
    import tomllib

    from terminal.config import parse_kiosk_config

    repo = Path(__file__).resolve().parents[2]
    data = tomllib.loads((repo / "config" / "kiosk-mfp.toml").read_text(encoding="utf-8"))
    data["backend"]["url"] = backend_url
    data["card_reader"] = {"type": "simulated", "debounce_s": 0.0}
    data["offline"]["state_dir"] = state_dir or tempfile.mkdtemp(prefix="kiosk-state-")
    if cups_port is not None:
        data["printer"].update(queue="kiosk", cups_server="127.0.0.1", cups_port=int(cups_port),
                               cups_spool_dir=spool_dir)
        data["printer"].pop("hold_queue", None)
        data["printer"]["snmp"] = {"enabled": False}
        campus = repo / "config" / "pricelists" / "campus-default.toml"
        data["pricing"] = {"price_list": str(campus)}
    for table, values in tables.items():
        data.setdefault(table, {}).update(values)
    return parse_kiosk_config(data, "kiosk-mfp.toml")


def tap(widget: Any) -> None:
    """A finger tap on the widget's centre, through the window's event dispatch."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def tap_at(x: float, y: float) -> None:
    """A finger tap at window coordinates, whatever widget is there now."""
    from kivy.tests.common import UnitTestTouch

    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def window_centre(widget: Any) -> tuple[float, float]:
    """Where a finger tapping ``widget`` touches the window."""
    return tuple(widget.to_window(*widget.center))  # type: ignore[return-value]


def screenshot(name: str) -> Path:
    """Save the window as PNG under the artifacts folder, named exactly ``name``.png."""
    from kivy.core.window import Window

    target = artifacts_dir() / f"{name}.png"
    written = Window.screenshot(name=str(artifacts_dir() / f"{name}.png"))
    # Kivy appends a counter (name0001.png); keep the stable name tests and humans expect.
    Path(written).replace(target)
    return target


def run_scenario(app: Any, scenario: Callable[[Any], Scenario], timeout_s: float = 20.0) -> int:
    """Run the app with the scenario; return 0 if it completed, 1 with a report if not."""
    from kivy.base import EventLoop
    from kivy.clock import Clock
    from kivy.uix.button import Button

    Button.min_state_time = 0
    outcome: dict[str, object] = {"ok": False}
    steps = scenario(app)
    state: dict[str, Any] = {"condition": lambda: True, "since": time.monotonic(), "settle": 0}

    def advance(_dt: float) -> None:
        try:
            if state["settle"] > 0:
                # the condition held: let the new state lay out before touching it
                state["settle"] -= 1
                if state["settle"] == 0:
                    state["condition"] = next(steps)
                    state["since"] = time.monotonic()
                return
            if state["condition"]():
                state["settle"] = 2
            elif time.monotonic() - state["since"] > timeout_s:
                frame = getattr(steps, "gi_frame", None)
                where = f"line {frame.f_lineno}" if frame is not None else "unknown line"
                raise TimeoutError(f"condition at {where} not met within {timeout_s:g} s")
        except StopIteration:
            outcome["ok"] = True
            app.stop()
        except Exception:
            outcome["error"] = traceback.format_exc()
            app.stop()

    def start(_dt: float) -> None:
        Clock.schedule_interval(advance, 0.05)

    Clock.schedule_once(start, 0.5)
    app.run()
    EventLoop.close()
    if not outcome["ok"]:
        print(outcome.get("error", "scenario did not finish"), file=sys.stderr)
        return 1
    return 0
