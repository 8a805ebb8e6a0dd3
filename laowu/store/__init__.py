"""The only place SQL lives: pool, migrations, the ledger repository, read queries."""
