"""``python -m xmir`` runs the command line."""

from xmir.cli import app

if __name__ == "__main__":
    app()
