"""What ``printkiosk doctor`` checks of a backend file's ``[notifications]``.

The files it names (the SMTP password, the CA bundle, the operator's template folder)
are read here, once, so that a broken one is reported before the first mail is due,
not found later in ``last_error``: the password file must exist and be the owner's
alone (the worker refuses it otherwise), the CA bundle must load, and every file in the
template folder must be named ``<language>/<kind>.<part>`` after a kind and part the
backend knows and must compile (``<file>:<line>: <message>``). The SMTP server is then
asked EHLO only (no mail), labelled as such; one that does not answer is a warning.
"""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

from jinja2 import TemplateSyntaxError

from backend.config import NotificationSettings, SmtpSettings
from backend.notify import smtp, templates

# doctor waits at most this long for the SMTP server, whatever smtp.timeout_s says
CHECK_TIMEOUT_S = 5


def known_kinds() -> set[str]:
    """The mail kinds the backend sends: those with shipped English templates."""
    return {path.name.split(".", 1)[0] for path in (templates.SHIPPED_DIR / "en").iterdir()
            if path.is_file()}


def problems(label: str, settings: NotificationSettings) -> list[str]:
    """Every problem of the files ``[notifications]`` names; ``label`` is the file's name."""
    found: list[str] = []
    smtp_settings = settings.smtp
    if smtp_settings.password_file:
        found += _password_problems(label, Path(smtp_settings.password_file))
    if smtp_settings.ca_file:
        try:
            ssl.create_default_context(cafile=smtp_settings.ca_file)
        except (OSError, ssl.SSLError) as exc:
            found.append(f"{label}: notifications.smtp.ca_file: {smtp_settings.ca_file}: "
                         f"not a readable CA bundle: {exc}")
    if settings.templates_dir:
        found += template_problems(label, Path(settings.templates_dir))
    return found


def _password_problems(label: str, path: Path) -> list[str]:
    where = f"{label}: notifications.smtp.password_file: {path}"
    if not path.is_file():
        return [f"{where}: does not exist (write the SMTP password there, chmod 600)"]
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return [f"{where}: mode 0o{mode:03o} lets others read it; expected 0600 "
                f"(chmod 600 {path}); no mail is sent until it is"]
    return []


def template_problems(label: str, folder: Path) -> list[str]:
    """Each file of the operator's folder: a known name, and a template that compiles."""
    if not folder.is_dir():
        return [f"{label}: notifications.templates_dir: {folder}: is not a directory"]
    env = templates.environment(folder)
    kinds = known_kinds()
    found: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        name_problem = _name_problem(relative, kinds)
        if name_problem:
            found.append(f"{path}: {name_problem}")
            continue
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            found.append(f"{path}: cannot be read as UTF-8 text: {exc}")
            continue
        try:
            env.compile(source, str(relative), str(path))
        except TemplateSyntaxError as exc:
            found.append(f"{path}:{exc.lineno}: {exc.message}")
    return found


def _name_problem(relative: Path, kinds: set[str]) -> str | None:
    parts = relative.parts
    if len(parts) != 2 or parts[0] not in templates.LANGUAGES:
        return (f"not a template of the backend: expected <language>/<kind>.<part> with a "
                f"language of {', '.join(templates.LANGUAGES)}")
    kind, _, part = parts[1].partition(".")
    if kind not in kinds:
        return f"no mail kind {kind!r} (known: {', '.join(sorted(kinds))})"
    if part not in templates.PARTS:
        return f"no template part {part!r} (expected one of {', '.join(templates.PARTS)})"
    return None


def reachability(label: str, settings: NotificationSettings) -> tuple[bool, str]:
    """(answered, the line to print): EHLO (STARTTLS, login) only, no mail sent."""
    quick = _quick(settings)
    try:
        said = smtp.check(quick)
    except smtp.SmtpError as exc:
        return False, (f"WARNING: {label}: notifications.smtp: the mail server does not "
                       f"take us (EHLO check, no mail sent): {exc.reason}")
    return True, f"{label}: notifications.smtp: {said} (EHLO check only, no mail sent)"


def _quick(settings: NotificationSettings) -> SmtpSettings:
    """The server settings with doctor's short timeout."""
    return settings.smtp.model_copy(
        update={"timeout_s": min(settings.smtp.timeout_s, CHECK_TIMEOUT_S)})
