"""movierater_core: the pure domain of the movie-rating service.

Entities and value objects (:mod:`.model`), the input rules (:mod:`.rules`), the
ports the core needs from infrastructure (:mod:`.ports`) and the use cases
(:mod:`.use_cases`). It depends on attrs alone; give the use cases adapters that
implement the ports (SQL, argon2, ...) or in-memory fakes, and call them::

    accounts = Accounts(db, hasher, tokens, clock, AccountSettings())
    alice = accounts.register({"username": "alice", "password": "a long passphrase"})
"""

__version__ = "0.2.0"
