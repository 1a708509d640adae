"""The user session state machine: who is at the kiosk right now.

idle -> identifying -> identified -> idle (logout, idle timeout); an account with the
technician role (or the local technician PIN) goes to technician instead of identified,
and times out and logs out the same way. One user at a time: a card presented while
someone is identified is ignored, so a badge brushing the reader
never switches the account under a user's finger. Backend calls run on a worker thread
(never on the UI thread) and a result that arrives after the user has left, or after a
newer request, is dropped: a generation counter makes stale answers harmless, so the
next person never sees the previous one's name or balance.

When the backend cannot be reached, a card is looked up in the offline cache of users
seen recently (:mod:`terminal.offline`): a remembered user is identified with the last
known balance and its age, anyone else is refused with ``offline_user_unknown``. The
view always says whether the terminal is offline, so the UI can show it before anyone
badges (the backend client reports reachability through :meth:`set_offline`).

Card self-enrolment: when the backend answers ``card_unknown``, the controller keeps
that card number (and only here: the view carries a masked hint, never the number) so
that the user can link it to their account with username + PIN (:meth:`enrol_card`).
It is forgotten as soon as it is no longer needed: enrolled, cancelled, another card or
login, logout, or an idle timeout without anyone finishing the enrolment.

Language: the view carries the language the screens speak. Each session starts in the
user's profile language (the kiosk's default when the kiosk has no text in it), the
person at the kiosk may switch at any time (:meth:`set_language`), and logout returns
to the kiosk's default, so one person's choice never sticks for the next.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from enum import Enum

from terminal.config import SUPPORTED_LANGUAGES
from terminal.offline import OFFLINE_PIN_UNAVAILABLE, OFFLINE_USER_UNKNOWN, OfflineCache
from terminal.ports import Backend, BackendError, BackendUnavailable, Identity
from terminal.technician_pin import LocalPin
from terminal.technician_types import LOCAL_TECHNICIAN, TECHNICIAN_ROLE, Technician

_log = logging.getLogger(__name__)


class SessionState(Enum):
    IDLE = "idle"
    IDENTIFYING = "identifying"
    IDENTIFIED = "identified"
    # an account with the technician role, or the local PIN: the technician screens,
    # never a job list, a balance or a release
    TECHNICIAN = "technician"


# the states someone is at the kiosk in: the idle timeout and its warning count in both
_PRESENT = (SessionState.IDENTIFIED, SessionState.TECHNICIAN)


@dataclass(frozen=True)
class SessionView:
    """Everything the UI may show about the session; the UI renders this and nothing else."""

    state: SessionState
    identity: Identity | None = None
    error: str | None = None
    seconds_left: int | None = None
    offline: bool = False
    # Seconds since the shown balance was confirmed by the backend; None when it is live.
    balance_age_s: int | None = None
    # Set while an unknown card may be associated with an account: the card masked
    # ("•••• 42"), safe to show; None when there is no card to enrol.
    enrol_card_hint: str | None = None
    # The language the screens speak now (an ISO 639-1 code of SUPPORTED_LANGUAGES).
    language: str = "en"
    # Who is in technician mode (state TECHNICIAN), and how they got in.
    technician: Technician | None = None


CARD_UNKNOWN = "card_unknown"


def _supported(language: str, what: str = "language") -> str:
    """``language`` itself, if the kiosk has text in it (a bug in the caller otherwise)."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"{what} {language!r} is not one of {', '.join(SUPPORTED_LANGUAGES)}")
    return language


def mask_card(number: str) -> str:
    """A card number fit for the screen: at most its last two characters, and only for a
    number long enough that they do not give it away."""
    return "•••• " + number[-2:] if len(number) >= 6 else "••••"


Listener = Callable[[SessionView], None]


class SessionController:
    """Owns the session state; thread-safe, notifies listeners on every change."""

    def __init__(
        self,
        backend: Backend,
        executor: Executor,
        clock: Callable[[], float],
        idle_timeout_s: float,
        warning_s: float,
        offline_cache: OfflineCache | None = None,
        default_language: str = "en",
        local_pin: LocalPin | None = None,
    ) -> None:
        self._default_language = _supported(default_language, "default language")
        self._local_pin = local_pin
        self._backend = backend
        self._offline_cache = offline_cache
        self._offline = False
        self._executor = executor
        self._clock = clock
        self._idle_timeout_s = idle_timeout_s
        self._warning_s = warning_s
        self._lock = threading.Lock()
        self._view = SessionView(SessionState.IDLE, language=default_language)
        self._generation = 0
        self._last_activity = clock()
        self._listeners: list[Listener] = []
        # (card number, when it was refused) of the unknown card that may be enrolled
        self._unknown_card: tuple[str, float] | None = None
        # session generation -> releases of that session still running
        self._releases: dict[int, int] = {}

    @property
    def view(self) -> SessionView:
        with self._lock:
            return self._view

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def present_card(self, card_number: str) -> None:
        """A card was read: identify it unless someone is already at the kiosk."""
        number = card_number.strip()
        if not number:
            return
        self._begin(lambda: self._backend.identify_card(number), number)

    def login_with_pin(self, username: str, pin: str) -> None:
        self._begin(lambda: self._backend.identify_pin(username.strip(), pin), None)

    def enter_local_technician(self, pin: str) -> None:
        """The offline fallback: the local technician PIN (``[technician]
        local_pin_file``), checked on the worker like a PIN login. Right: TECHNICIAN as
        the local technician; else view.error ``pin_invalid``, ``pin_locked`` or
        ``no_local_pin``. Allowed online and offline."""
        generation = self._start_identifying(forget_card=True)
        if generation is not None:
            self._executor.submit(self._enter_local, pin, generation)

    def _enter_local(self, pin: str, generation: int) -> None:
        refusal: str | None = "no_local_pin"
        try:
            if self._local_pin is not None:
                found = self._local_pin.check(pin)
                refusal = None if found is None else found.code
        except Exception:  # a bug must not leave the kiosk stuck on "identifying"
            _log.exception("local technician PIN check failed unexpectedly")
            refusal = "internal_error"
        with self._lock:
            if generation != self._generation:
                return
            if refusal is not None:
                self._view = SessionView(SessionState.IDLE, error=refusal, offline=self._offline,
                                         language=self._view.language)
            else:
                self._view = SessionView(
                    SessionState.TECHNICIAN, offline=self._offline, language=self._view.language,
                    technician=Technician(LOCAL_TECHNICIAN, "Local technician", "local_pin"))
                self._last_activity = self._clock()
            view = self._view
        self._notify(view)

    def resume_technician(self, technician: Technician) -> None:
        """Carry a technician over to this controller: the terminal core restarted under
        them (a change applied), and a new core's session starts idle. Without this the
        technician screens would stay open with no idle timeout, so a technician who
        walks away after a change would leave the kiosk in technician mode."""
        with self._lock:
            self._generation += 1
            self._view = SessionView(SessionState.TECHNICIAN, offline=self._offline,
                                     language=self._view.language, technician=technician)
            self._last_activity = self._clock()
            view = self._view
        self._notify(view)

    def is_technician(self, username: str) -> bool:
        """Whether ``username`` is in technician mode here now: a job listing or a
        release asked for them is refused (a technician session never charges)."""
        with self._lock:
            technician = self._view.technician
            return self._view.state is SessionState.TECHNICIAN and technician is not None \
                and technician.username == username

    def enrol_card(self, username: str, pin: str) -> None:
        """Associate the card just refused as unknown with this user, then log them in.

        A wrong PIN leaves the card unknown (and still offered, to try again)."""
        with self._lock:
            pending = self._unknown_card
        if pending is None:
            return
        number = pending[0]
        self._begin(lambda: self._backend.enrol_card(number, username.strip(), pin), number,
                    enrolling=True)

    def cancel_enrolment(self) -> None:
        """The user does not want to associate the card: forget it."""
        with self._lock:
            if self._unknown_card is None:
                return
            self._unknown_card = None
            if self._view.state is not SessionState.IDLE:
                return
            self._view = SessionView(SessionState.IDLE, offline=self._offline,
                                     language=self._view.language)
            view = self._view
        self._notify(view)

    def set_offline(self, offline: bool) -> None:
        """The backend became unreachable (True) or reachable again (False)."""
        with self._lock:
            if self._offline is offline:
                return
            self._offline = offline
            self._view = replace(self._view, offline=offline)
            view = self._view
        self._notify(view)

    def touch(self) -> None:
        """The user did something: push the idle timeout back."""
        with self._lock:
            self._last_activity = self._clock()
            if self._view.seconds_left is not None:
                self._view = replace(self._view, seconds_left=None)
                view = self._view
            else:
                return
        self._notify(view)

    def release_running(self, username: str) -> Callable[[], None]:
        """A release of ``username``'s jobs started: no idle warning nor logout of this
        session until the returned callable is called (at the end of the release); the
        idle timeout then counts again from that moment.

        A job printing for minutes reports no progress for long stretches, and a user
        waiting at the printer touches nothing: without this, the idle logout would end
        the session mid-release. An explicit logout still ends it at once. A release
        that is not the identified user's (they left meanwhile) holds nothing.
        """
        with self._lock:
            identity = self._view.identity
            if self._view.state is not SessionState.IDENTIFIED or identity is None \
                    or identity.username != username:
                return lambda: None
            generation = self._generation
            self._releases[generation] = self._releases.get(generation, 0) + 1
            countdown = self._view.seconds_left is not None
            if countdown:
                self._view = replace(self._view, seconds_left=None)
            view = self._view
        if countdown:
            self._notify(view)
        done = threading.Event()

        def finished() -> None:
            if done.is_set():
                return
            done.set()
            with self._lock:
                left = self._releases.pop(generation, 1) - 1
                if left > 0:
                    self._releases[generation] = left
                if generation == self._generation:
                    self._last_activity = self._clock()

        return finished

    def logout(self) -> None:
        with self._lock:
            self._generation += 1
            self._unknown_card = None
            self._releases.clear()  # releases still running belong to nobody now
            self._view = SessionView(SessionState.IDLE, offline=self._offline,
                                     language=self._default_language)
            view = self._view
        self._notify(view)

    def set_language(self, language: str) -> None:
        """The person at the kiosk switched language: until logout (or for the idle
        screen, until someone is identified in their own language)."""
        _supported(language)
        with self._lock:
            if self._view.language == language:
                return
            self._view = replace(self._view, language=language)
            view = self._view
        self._notify(view)

    def _profile_language(self, identity: Identity) -> str:
        """The language a session starts in: the user's, if the kiosk speaks it."""
        if identity.language in SUPPORTED_LANGUAGES:
            return identity.language
        return self._default_language

    def tick(self) -> None:
        """Called about once a second: count down and log out an idle user, and forget
        an unknown card nobody enrolled within the idle timeout."""
        with self._lock:
            now = self._clock()
            if self._view.state is SessionState.IDLE and self._unknown_card is not None:
                if now - self._unknown_card[1] < self._idle_timeout_s:
                    return
                self._unknown_card = None
                self._view = SessionView(SessionState.IDLE, offline=self._offline,
                                     language=self._view.language)
                forgotten = self._view
            elif self._view.state not in _PRESENT:
                return
            elif self._releases.get(self._generation):
                return  # the user's jobs are printing: they are not idle
            else:
                forgotten = None
            remaining = self._idle_timeout_s - (now - self._last_activity)
        if forgotten is not None:
            self._notify(forgotten)
            return
        if remaining > self._warning_s:
            return
        if remaining <= 0:
            self.logout()
            return
        with self._lock:
            self._view = replace(self._view, seconds_left=max(1, round(remaining)))
            view = self._view
        self._notify(view)

    def _begin(self, call: Callable[[], Identity], card: str | None,
               enrolling: bool = False) -> None:
        # another card or a login: the unknown card kept for an enrolment is gone
        generation = self._start_identifying(forget_card=not enrolling)
        if generation is not None:
            self._executor.submit(self._identify, call, card, generation, enrolling)

    def _start_identifying(self, forget_card: bool) -> int | None:
        """Go from idle to identifying under a new generation (returned: the worker's
        answer counts only while it is still the newest); None when not idle."""
        with self._lock:
            if self._view.state is not SessionState.IDLE:
                return None
            if forget_card:
                self._unknown_card = None
            self._generation += 1
            generation = self._generation
            self._view = SessionView(SessionState.IDENTIFYING, offline=self._offline,
                                     language=self._view.language)
            view = self._view
        self._notify(view)
        return generation

    def _identify(self, call: Callable[[], Identity], card: str | None, generation: int,
                  enrolling: bool = False) -> None:
        identity: Identity | None = None
        error: str | None = None
        age: int | None = None
        offline: bool | None = False  # None: a bug, nothing learnt about the backend
        try:
            identity = call()
            # a technician is let in offline only by the local PIN, never from the cache
            if card is not None and self._offline_cache is not None \
                    and TECHNICIAN_ROLE not in identity.roles:
                self._offline_cache.remember(card, identity)
        except BackendUnavailable as exc:
            if self._offline_cache is None or enrolling:
                error = exc.code  # an enrolment needs the backend: never decided offline
                offline = True if enrolling else offline
            else:
                identity, age, error = self._identify_offline(card)
                offline = True
        except BackendError as exc:
            error = exc.code
        except Exception:  # a bug must not leave the kiosk stuck on "identifying"
            _log.exception("identification failed unexpectedly")
            error, offline = "internal_error", None
        with self._lock:
            if generation != self._generation:
                return
            if offline is not None:
                self._offline = offline
            if identity is None:
                if card is not None and error == CARD_UNKNOWN and not enrolling:
                    self._unknown_card = (card, self._clock())
                elif error == "card_already_enrolled":
                    self._unknown_card = None  # not unknown: somebody else's card
                hint = None if self._unknown_card is None else mask_card(self._unknown_card[0])
                self._view = SessionView(SessionState.IDLE, error=error, offline=self._offline,
                                         enrol_card_hint=hint, language=self._view.language)
            elif TECHNICIAN_ROLE in identity.roles:
                self._unknown_card = None
                technician = Technician(identity.username, identity.display_name,
                                        "card" if card is not None else "pin")
                self._view = SessionView(SessionState.TECHNICIAN, offline=self._offline,
                                         language=self._profile_language(identity),
                                         technician=technician)
                self._last_activity = self._clock()
            else:
                self._unknown_card = None
                self._view = SessionView(SessionState.IDENTIFIED, identity=identity,
                                         offline=self._offline, balance_age_s=age,
                                         language=self._profile_language(identity))
                self._last_activity = self._clock()
            view = self._view
        self._notify(view)

    def _identify_offline(self, card: str | None) -> tuple[Identity | None, int | None, str | None]:
        """The backend is away: a remembered card is let in, anything else is refused."""
        assert self._offline_cache is not None
        if card is None:
            return None, None, OFFLINE_PIN_UNAVAILABLE
        cached = self._offline_cache.find_card(card)
        if cached is None:
            return None, None, OFFLINE_USER_UNKNOWN
        return cached.identity, int(cached.balance_age_s), None

    def _notify(self, view: SessionView) -> None:
        for listener in list(self._listeners):
            listener(view)
