"""Failures of the use cases, in the domain's words; `actions/failures.py` maps each to a CAMS error.

DomainError
 ├── SpaceNotFound         no such space, or another account's (never told apart)
 ├── SpaceRequired         CustSpaceId left out where the account has several spaces
 ├── NumberNotInSpace      the space has no such phone number
 ├── WabaOfAnotherAccount  the WABA is bound to another account
 ├── InvalidValue          a parameter's value breaks a rule a type cannot express
 ├── NoGraphToken          neither the space nor the deployment has a Meta token
 ├── WabaBlocked           Meta asked us to stop calling for this WABA (we did not call)
 └── NotSupported          an action opencams answers but cannot carry out
"""

from __future__ import annotations


class DomainError(Exception):
    """A use case refused: the message is for the caller and holds no secret."""


class SpaceNotFound(DomainError):
    """No such customer space, or one of another account."""


class SpaceRequired(DomainError):
    """CustSpaceId was left out and the account does not have exactly one space to mean."""


class NumberNotInSpace(DomainError):
    """The space has no phone number with these digits."""


class WabaOfAnotherAccount(DomainError):
    """The WABA is bound to a space of another account."""


class InvalidValue(DomainError):
    """A parameter's value is refused; `param` names it for the caller."""

    def __init__(self, param: str, why: str) -> None:
        super().__init__(why)
        self.param = param
        self.why = why


class NoGraphToken(DomainError):
    """Neither the space nor the deployment has a Meta token."""


class WabaBlocked(DomainError):
    """Meta asked us to stop calling for this WABA for `retry_after` seconds; we have not called it."""

    def __init__(self, message: str, retry_after: float, meta_code: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.meta_code = meta_code


class NotSupported(DomainError):
    """An action that stands for something opencams does not have (the message says what instead)."""
