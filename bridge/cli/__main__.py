"""`python -m bridge.cli`: the `bridge` command."""

from bridge.cli import main

if __name__ == "__main__":
    main()
