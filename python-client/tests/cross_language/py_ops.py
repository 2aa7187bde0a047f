"""Python functions a Java driver calls, for test_cross_language.py."""


def add(a, b):
    return a + b


def echo(value):
    return value


def describe(value):
    return type(value).__name__ + ":" + repr(value)


def fail(message):
    raise ValueError(message)
