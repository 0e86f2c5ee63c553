"""SQL storage: tables, engine, migrations and the repositories; all SQL lives here."""
