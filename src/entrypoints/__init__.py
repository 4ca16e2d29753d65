"""Entry points: the HTTP app, the CLI, and the one composition root (:mod:`.bootstrap`)."""
