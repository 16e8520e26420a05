"""One module per command group. A command is a plain function: it takes the values its parameters
in cli/options.py describe (each parser passes the same ones), prints, and returns the exit code; it
raises options.UsageError or core.rules.UnknownRule for values it cannot take, which each parser reports
in its own way. No parser is imported here."""
