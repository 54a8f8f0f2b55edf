"""The command line: `fastqueue` (cli.py) and what its subcommands run."""
