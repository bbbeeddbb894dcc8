"""Errors of the Lab; each says what the caller should do about it."""

from omc.errors import OmcError

__all__ = ["ArtifactError", "LabError", "PlanError"]


class LabError(OmcError):
    """A Lab session cannot go on: read the message, fix the input, start again."""


class PlanError(LabError):
    """A plan is invalid for the data or the models: change the goal or the plan."""


class ArtifactError(LabError):
    """An artifact could not be written, read or verified: check the storage URL."""
