"""``python -m actfit.cli``: the command line."""

from actfit.cli import main

main()
