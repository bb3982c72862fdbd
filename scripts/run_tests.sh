#!/usr/bin/env bash
# Run the suite on SQLite, then on PostgreSQL when a server answers.
# Under CI=true a missing PostgreSQL is a failure, not a skip.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URI=${PG_URI:-postgresql://postgres@127.0.0.1:5432/}
status=0

# one suite after the other: run side by side on two cores, the SQLite
# suite once saw another test's committed rows (see conftest.py)
echo "== SQLite =="
TRYTOND_DATABASE_URI=sqlite:// DB_NAME=:memory: \
    $PY -m pytest -q -p no:cacheprovider --durations=12 tests || status=1

if $PY - "$PG_URI" <<'PYEOF'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1] + "postgres", connect_timeout=3).close()
except Exception as error:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {error}")
    sys.exit(1)
PYEOF
then
    echo "== PostgreSQL =="
    # a fresh database each run: the suite commits its set-up
    $PY - "$PG_URI" <<'PYEOF'
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
    TRYTOND_DATABASE_URI=$PG_URI DB_NAME=test_subscription_contract \
        CRASH_CONTRACTS=${CRASH_CONTRACTS:-100} \
        DB_CACHE=${PG_URI%/} \
        $PY -m pytest -q -p no:cacheprovider --durations=12 -m "not browser" \
        tests || status=1
elif [ "${CI:-}" = "true" ]; then
    echo "CI=true: PostgreSQL is required" >&2
    status=1
else
    echo "PostgreSQL skipped: only SQLite was tested"
fi
exit $status
