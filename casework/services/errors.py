class DomainError(Exception):
    """A rule of the domain refused the change. The message is shown to the officer as it is.

    `field` names the input at fault where there is one, so forms and the API can point at it.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The actor's role does not permit this action."""
