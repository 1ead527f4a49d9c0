"""The refusals of the association's services, each with a French message for the user."""


class ApplicationError(Exception):
    """A refusal with a French message for the user."""

    def __init__(self, message, missing=None):
        super().__init__(message)
        self.message = message
        self.missing = missing or []


class NotEditable(ApplicationError):
    pass


class SubmissionError(ApplicationError):
    pass


class AttachmentError(ApplicationError):
    pass
