"""``ray.types``: types for annotations.

``ObjectRef[T]`` annotates a reference to a value of type T (``def f(x: ObjectRef[int])``).
It is for type checkers and documentation; references at run time are ``ray.ObjectRef``.
"""

from typing import Generic, TypeVar

T = TypeVar("T")


class ObjectRef(Generic[T]):
    """A reference to a value of type T (for annotations; see the module docstring)."""


__all__ = ["ObjectRef", "T"]
