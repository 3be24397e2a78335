"""`listener demo`: the whole flow on built-in sample feeds, with local stand-ins for the outside world."""

from listener.demo.command import demo

__all__ = ["demo"]
