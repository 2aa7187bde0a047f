"""Python functions a Java driver calls, for test_cross_language.py."""


def add(a, b):
    return a + b


def echo(value):
    return value


def describe(value):
    return type(value).__name__ + ":" + repr(value)


def fail(message):
    raise ValueError(message)


class PyCounter:
    """A Python actor a Java driver creates."""

    def __init__(self, start):
        self.value = start

    def increment(self, by):
        self.value += by
        return self.value
