"""`python -m app.cli_entry` runs the `linli` command (for environments without the console script)."""

from app.cli import main

if __name__ == "__main__":
    main()
