"""Errors the detector raises on purpose, each naming the input it could not use."""

from __future__ import annotations


class DetectorError(Exception):
    """Base of every error raised on purpose by the detector."""


class SettingsError(DetectorError):
    """The settings object is invalid; the message names the offending key."""


class InputError(DetectorError):
    """One input record cannot be used; the message names the source and field, not the value."""


class StateConflict(DetectorError):
    """Another invocation changed detection state first; load it again and re-evaluate."""
