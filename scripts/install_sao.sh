#!/bin/sh
# Install the sao web client (tryton-sao 8.0.x from npm) into $ROOT/.cache/sao.
# The resulting directory (containing index.html) is used as trytond [web] root.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST="$ROOT/.cache/sao"
SERIES=${SAO_SERIES:-8.0}

VERSION=$(npm view "tryton-sao@~$SERIES" version --json 2>/dev/null \
    | tr -d '[]" \n' | tr ',' '\n' | sort -V | tail -n1)
if [ -z "$VERSION" ]; then
    if [ -f "$DEST/index.html" ]; then
        echo "npm unreachable; keeping tryton-sao $(cat "$DEST/.sao-version" 2>/dev/null) in $DEST"
        exit 0
    fi
    echo "no tryton-sao $SERIES.x found on npm" >&2
    exit 1
fi

if [ -f "$DEST/index.html" ] && [ -d "$DEST/node_modules" ] \
        && [ "$(cat "$DEST/.sao-version" 2>/dev/null)" = "$VERSION" ]; then
    echo "tryton-sao $VERSION already installed in $DEST"
    exit 0
fi

echo "installing tryton-sao $VERSION into $DEST"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "tryton-sao@$VERSION" >/dev/null)
tar -xzf "$TMP"/tryton-sao-*.tgz -C "$TMP"
# sao's bower-era dependencies are installed from npm; peers conflict otherwise
(cd "$TMP/package" && npm install --omit=dev --legacy-peer-deps --no-audit --no-fund)
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$TMP/package" "$DEST"
echo "$VERSION" > "$DEST/.sao-version"
echo "tryton-sao $VERSION installed in $DEST"
