"""The SQL behind the ledger's append-only triggers (migration 0002) and a way to suspend them for a
whole-database reset (the `flush` command)."""

POSTGRES_UP = """
CREATE FUNCTION points_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'points ledger entries are append-only (' || TG_OP || ' refused)',
        ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER points_entry_no_update BEFORE UPDATE ON points_entry
    FOR EACH ROW EXECUTE FUNCTION points_entry_append_only();
CREATE TRIGGER points_entry_no_delete BEFORE DELETE ON points_entry
    FOR EACH ROW EXECUTE FUNCTION points_entry_append_only();
CREATE TRIGGER points_entry_no_truncate BEFORE TRUNCATE ON points_entry
    FOR EACH STATEMENT EXECUTE FUNCTION points_entry_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER points_entry_no_truncate ON points_entry;
DROP TRIGGER points_entry_no_delete ON points_entry;
DROP TRIGGER points_entry_no_update ON points_entry;
DROP FUNCTION points_entry_append_only();
"""
SQLITE_UP = [
    "CREATE TRIGGER points_entry_no_update BEFORE UPDATE ON points_entry "
    "BEGIN SELECT RAISE(ABORT, 'points ledger entries are append-only (UPDATE refused)'); END;",
    "CREATE TRIGGER points_entry_no_delete BEFORE DELETE ON points_entry "
    "BEGIN SELECT RAISE(ABORT, 'points ledger entries are append-only (DELETE refused)'); END;",
]
SQLITE_DOWN = ["DROP TRIGGER points_entry_no_update;", "DROP TRIGGER points_entry_no_delete;"]


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


def suspend(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE points_entry DISABLE TRIGGER USER")
        elif connection.vendor == "sqlite":
            for statement in SQLITE_DOWN:
                cursor.execute(statement)


def restore(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE points_entry ENABLE TRIGGER USER")
        elif connection.vendor == "sqlite":
            for statement in SQLITE_UP:
                cursor.execute(statement)
