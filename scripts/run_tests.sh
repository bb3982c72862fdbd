#!/usr/bin/env bash
# Run the suite on SQLite and on PostgreSQL (when a server answers), side by
# side on the machine's two cores; each pass prints when both are done.
# Under CI=true a missing PostgreSQL is a failure, not a skip.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URI=${PG_URI:-postgresql://postgres@127.0.0.1:5432/}
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

# each pass has its own temporary folder: pytest keeps the last three of a
# shared one and would remove the other pass's servers' files
sqlite_pass() {
    TRYTOND_DATABASE_URI=sqlite:// DB_NAME=:memory: \
        $PY -m pytest -q -p no:cacheprovider --durations=12 \
        --basetemp="$LOGS/sqlite" tests
}

postgresql_pass() {
    # a fresh database each run: the suite commits its set-up
    $PY - "$PG_URI" <<'PYEOF' || return 1
import sys, psycopg
conn = psycopg.connect(sys.argv[1] + "postgres", autocommit=True)
cursor = conn.cursor()
# the suite's database and the templates Tryton's test cache made last time
cursor.execute("SELECT datname FROM pg_database "
    "WHERE datname LIKE 'test-%' OR datname LIKE 'test\\_%'")
for name, in cursor.fetchall():
    cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
PYEOF
    # the worker crash test at 100 contracts (2,000 takes ~45 min here);
    # the browser tests drive the screens, which are the same on both
    # databases: they run on SQLite only (RPC access tests run on both)
    # its own home: LibreOffice keeps one profile per home, and two passes
    # converting with one profile at the same moment fail (seen here)
    mkdir -p "$LOGS/home"
    HOME="$LOGS/home" \
    TRYTOND_DATABASE_URI=$PG_URI DB_NAME=test_subscription_contract \
        CRASH_CONTRACTS=${CRASH_CONTRACTS:-100} \
        DB_CACHE=${PG_URI%/} \
        $PY -m pytest -q -p no:cacheprovider --durations=12 -m "not browser" \
        --basetemp="$LOGS/postgresql" tests
}

postgresql=skip
if $PY - "$PG_URI" <<'PYEOF'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1] + "postgres", connect_timeout=3).close()
except Exception as error:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {error}")
    sys.exit(1)
PYEOF
then
    postgresql=run
    postgresql_pass > "$LOGS/postgresql.log" 2>&1 &
    pg_pid=$!
fi
sqlite_pass > "$LOGS/sqlite.log" 2>&1
sqlite_status=$?
echo "== SQLite =="
cat "$LOGS/sqlite.log"
status=$sqlite_status

if [ $postgresql = run ]; then
    wait $pg_pid || status=1
    echo "== PostgreSQL =="
    cat "$LOGS/postgresql.log"
elif [ "${CI:-}" = "true" ]; then
    echo "CI=true: PostgreSQL is required" >&2
    status=1
else
    echo "PostgreSQL skipped: only SQLite was tested"
fi
exit $status
