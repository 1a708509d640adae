"""Every outcome a release can end in: the one registry of the keys the terminal emits.

A job's final :class:`~terminal.release.ReleaseUpdate` names its outcome with a stable
key (``ReleaseUpdate.outcome``; ``problem`` is the same key, None on a plain success).
The key says *why* the job ended as it did; the update's :class:`Settlement` says what
happened to the money (charged in full, partly charged, voided, never held, unsettled)
and its ``held``/``charged``/``refunded``/``impressions_done`` fields say how much. The
kiosk translates ``error.<key>`` (and reads the settlement to never call a void
"finished"); its catalogue test collects the keys from :data:`OUTCOMES`, so a key added
here without a translation fails that test, and a key emitted without being added here
fails at once: ``ReleaseUpdate`` refuses an unregistered key, a stage the key cannot
end in, or a settlement it cannot have.

Keys from elsewhere are normalised before they reach an update: a printer's reason by
:func:`printer_refusal` (an unknown one is ``printer_error``), a backend's refusal code
by :func:`backend_refusal` (an unknown one is ``hold_refused``, the backend's own code
goes to the log), so the set below is closed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Stage(enum.Enum):
    """Where one job's release is; the last five are final."""

    WAITING = "waiting"
    HOLDING = "holding"
    PRINTING = "printing"
    CHARGED = "charged"  # printed (in full or in part) and the printed part captured
    VOIDED = "voided"  # held, nothing printed, the whole hold given back
    REFUSED = "refused"  # the printer or the backend said no; nothing printed
    INSUFFICIENT = "insufficient"  # not enough credit for the hold
    FAILED = "failed"  # a money step failed or a bug: see the settlement

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({Stage.CHARGED, Stage.VOIDED, Stage.REFUSED, Stage.INSUFFICIENT,
                    Stage.FAILED})


class Settlement(enum.Enum):
    """What happened to the job's money, on its final update."""

    NONE = "none"  # no hold was made: nothing held, charged or refunded
    CHARGED = "charged"  # the hold captured in full (a 0.00 job too): nothing given back
    PARTLY_CHARGED = "partly_charged"  # the printed part captured, the rest given back
    VOIDED = "voided"  # the whole hold given back: nothing charged
    UNSETTLED = "unsettled"  # the capture or void was refused: the journal keeps it


class Kind(enum.Enum):
    """Which family an outcome belongs to (docs and the kiosk's wording)."""

    PRINTED = "printed"  # the job printed to its end
    ENDING = "ending"  # the job ended short of its end at the print server
    PRINTER_REFUSAL = "printer_refusal"  # the printer cannot print now; the job stays held
    BACKEND_REFUSAL = "backend_refusal"  # the backend (or the offline policy) refused a hold
    FAILURE = "failure"  # something failed: the money state is in the settlement


@dataclass(frozen=True)
class Outcome:
    """One key the release can end with; the stages and settlements it may come with."""

    key: str
    kind: Kind
    stages: frozenset[Stage]
    settlements: frozenset[Settlement]
    meaning: str


COMPLETED = "job_completed"
PRINTER_ERROR = "printer_error"
HOLD_REFUSED = "hold_refused"

_S = Stage
_M = Settlement
_PAID = frozenset({_M.CHARGED, _M.PARTLY_CHARGED})
_NO_HOLD = frozenset({_M.NONE})
# A printer refusal before the hold moves no money; one found at the release itself
# (the printer failed between the check and the release) voids the hold just made.
_PRINTER = (frozenset({_S.REFUSED}), frozenset({_M.NONE, _M.VOIDED}))
_BACKEND = (frozenset({_S.REFUSED}), _NO_HOLD)
# A job that ended otherwise than completed is charged the pages printed, or voided.
_ENDING = (frozenset({_S.CHARGED, _S.VOIDED}), _PAID | {_M.VOIDED})


def _outcomes() -> dict[str, Outcome]:
    found: list[Outcome] = [
        Outcome(COMPLETED, Kind.PRINTED, frozenset({_S.CHARGED}), _PAID,
                "printed to the end; charged what printed, the rest of the hold given back"),
        Outcome("job_processing_stopped", Kind.ENDING, *_ENDING,
                "the printer stopped the job (jam): cancelled, charged the pages printed"),
        Outcome("job_canceled", Kind.ENDING, *_ENDING,
                "cancelled at the printer or print server: charged the pages printed"),
        Outcome("job_aborted", Kind.ENDING, *_ENDING,
                "the print server aborted the job: charged the pages printed"),
        Outcome("job_not_followed", Kind.ENDING, *_ENDING,
                "the print server stopped answering or the job outlasted the follow "
                "timeout: charged the pages it last reported"),
        Outcome("job_nothing_printed", Kind.ENDING, frozenset({_S.VOIDED}),
                frozenset({_M.VOIDED}),
                "the job ended with no page printed: the whole hold given back"),
        Outcome("release_failed", Kind.FAILURE, frozenset({_S.VOIDED}), frozenset({_M.VOIDED}),
                "the print server would not release the job: the hold given back, the job "
                "stays held"),
        Outcome("job_recovering", Kind.FAILURE, frozenset({_S.REFUSED}), _NO_HOLD,
                "the kiosk is still settling this job's release from before a restart: "
                "nothing held, try again in a moment"),
        Outcome("job_gone", Kind.FAILURE, frozenset({_S.FAILED}), _NO_HOLD,
                "the job left the queue before its release: nothing held"),
        Outcome("settlement_refused", Kind.FAILURE, frozenset({_S.FAILED}),
                frozenset({_M.UNSETTLED}),
                "the backend refused the capture or void: kept in the journal for the "
                "operator"),
        Outcome("backend_unavailable", Kind.FAILURE, frozenset({_S.FAILED}), _NO_HOLD,
                "the backend could not be reached and the hold could not be decided offline"),
        Outcome("backend_error", Kind.FAILURE, frozenset({_S.FAILED}), _NO_HOLD,
                "the backend failed the hold: nothing held"),
        Outcome("internal_error", Kind.FAILURE, frozenset({_S.FAILED}),
                frozenset({_M.NONE, _M.UNSETTLED}),
                "a bug in the kiosk (logged); the journal keeps any hold for recovery"),
        Outcome("insufficient_funds", Kind.BACKEND_REFUSAL, frozenset({_S.INSUFFICIENT}),
                _NO_HOLD, "not enough credit for the job's estimate: nothing held"),
    ]
    for key, meaning in (
        (PRINTER_ERROR, "the printer reports an error it cannot print through"),
        ("printer_stopped", "the print queue or printer is stopped"),
        ("printer_jammed", "paper jam"),
        ("toner_empty", "toner (or another marker supply) empty"),
        ("waste_toner_full", "waste toner box full"),
        ("paper_empty", "no paper"),
        ("door_open", "a door or cover is open"),
        ("tray_missing", "an input tray is missing"),
        ("output_full", "the output tray is full"),
        ("printer_offline", "the printer is offline or shut down"),
        ("printer_not_accepting", "the queue does not accept jobs"),
        ("printer_unavailable", "the print server cannot be reached"),
    ):
        found.append(Outcome(key, Kind.PRINTER_REFUSAL, *_PRINTER,
                             f"{meaning}: the job stays held"))
    for key, meaning in (
        (HOLD_REFUSED, "the backend refused the hold for a reason the kiosk does not know"),
        ("amount_invalid", "the backend refused the hold's amount"),
        ("user_unknown", "the backend does not know the user"),
        ("user_disabled", "the user's account is disabled"),
        ("billing_code_unknown", "the billing code picked is unknown or closed"),
        ("offline_user_unknown", "backend offline and the user not seen recently"),
        ("offline_limit_reached", "backend offline and the offline limit is reached"),
        ("offline_disabled", "backend offline and offline printing is disabled"),
        ("terminal_unauthorized", "the backend does not accept this kiosk's token"),
        ("terminal_revoked", "this kiosk has been revoked"),
    ):
        found.append(Outcome(key, Kind.BACKEND_REFUSAL, *_BACKEND, f"{meaning}: nothing held"))
    return {outcome.key: outcome for outcome in found}


OUTCOMES: Mapping[str, Outcome] = _outcomes()


class UnknownOutcome(ValueError):
    """A release tried to end with a key that is not registered here (a bug)."""


def outcome(key: str) -> Outcome:
    """The registered outcome ``key``; :class:`UnknownOutcome` when it is not one."""
    try:
        return OUTCOMES[key]
    except KeyError:
        raise UnknownOutcome(
            f"release outcome {key!r} is not in terminal.outcomes.OUTCOMES"
        ) from None


def printer_refusal(reason: str) -> str:
    """A printer's stable reason as a registered key (an unknown one: ``printer_error``)."""
    known = OUTCOMES.get(reason)
    return reason if known is not None and known.kind is Kind.PRINTER_REFUSAL else PRINTER_ERROR


def backend_refusal(code: str) -> str:
    """A hold refusal's code as a registered key (an unknown one: ``hold_refused``)."""
    known = OUTCOMES.get(code)
    return code if known is not None and known.kind is Kind.BACKEND_REFUSAL else HOLD_REFUSED


def check(key: str | None, stage: Stage, settlement: Settlement) -> None:
    """Raise :class:`UnknownOutcome` unless a final update may end this way."""
    found = outcome(key if key is not None else COMPLETED)
    if stage not in found.stages or settlement not in found.settlements:
        raise UnknownOutcome(
            f"release outcome {found.key!r} cannot end at stage {stage.value!r} with "
            f"settlement {settlement.value!r}"
        )
