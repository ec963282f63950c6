from valgus.cli.main import main

__all__ = ["main"]
