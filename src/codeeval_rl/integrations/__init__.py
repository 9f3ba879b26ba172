"""Our execution rewards in other training engines' signatures: :mod:`.trl` and :mod:`.verl`."""

__all__ = ["trl", "verl"]
