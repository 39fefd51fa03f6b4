"""The base of the errors whose text is written for people."""


class UserFacingError(Exception):
    """Raised with a ``message`` in words for the person; views show it as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
