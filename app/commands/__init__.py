"""The `linli` subcommands, one module per area; each loads the app only when it runs."""
