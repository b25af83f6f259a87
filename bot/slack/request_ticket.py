"""Who a request modal belongs to: the ticket the worker seals in the filled modal's
``private_metadata`` and the endpoint opens on every click and submission of it.

A view_submission or a click names its view by id, and Slack signs the request, but nothing in a
view says whose it is. The ticket does: the person it was opened for, its view id, and the
channel it was opened from (the card's default), sealed with the job signing key
(``JobSigner.seal_form``) so it cannot be made up or moved to another view or person. The
endpoint opens it with the key it seals with only (no secret read on the ack path); the worker
opens it again with every key before it acts. Standard library only: the endpoint loads it on the
first modal request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import UsageError
from bot.slack.protocol import JobRejectedError, JobSigner

# How long a filled request modal may be used: long enough to think, short enough that a modal
# left open over a key rotation or a night is opened again rather than trusted.
TICKET_TTL_S = 3_600


class TicketRefusedError(UsageError):
    """A modal whose ticket does not open for this view and person (forged, stale, another's)."""


@dataclass(frozen=True)
class RequestTicket:
    user: str  # the person the modal was opened for
    view_id: str  # the modal it was sealed into
    channel: str  # where the command was typed ("" from the Home tab)

    def seal(self, signer: JobSigner, now: datetime) -> str:
        """The ticket as the view's ``private_metadata`` (compact signed text)."""
        body = {"user": self.user, "view_id": self.view_id, "channel": self.channel}
        return signer.seal_form(body, now, TICKET_TTL_S)

    @classmethod
    def open(
        cls,
        signer: JobSigner,
        sealed: object,
        now: datetime,
        *,
        user: str,
        view_id: str,
        current_key_only: bool = False,
    ) -> RequestTicket:
        """The ticket in ``sealed`` (a view's ``private_metadata``) if it was sealed for
        ``view_id`` and ``user`` and is still valid; TicketRefusedError saying what to do else."""
        if not isinstance(sealed, str) or not sealed:
            raise TicketRefusedError("This form is not ready yet: wait for it to load.")
        try:
            body = signer.open_form(
                sealed, now, max_ttl_s=TICKET_TTL_S, current_key_only=current_key_only
            )
        except JobRejectedError as exc:
            if exc.reason == "stale":
                raise TicketRefusedError(
                    "This form is too old: close it and open a new one."
                ) from exc
            raise TicketRefusedError("This form could not be verified: open a new one.") from exc
        ticket = cls(
            user=str(body.get("user", "")),
            view_id=str(body.get("view_id", "")),
            channel=str(body.get("channel", "")),
        )
        if not user or ticket.user != user or ticket.view_id != view_id:
            # A view of someone else's, or another view's ticket copied into this one.
            raise TicketRefusedError("This form was opened for someone else: open your own.")
        return ticket
