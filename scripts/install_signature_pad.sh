#!/bin/sh
# Install the signature pad of the portal's quotation page (the MIT
# signature_pad package from npm) into the module's static files, so that
# `pip install .` ships it with the module (make venv runs this first).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST="$ROOT/sale_subscription_contract/portal/static/vendor"
VERSION=${SIGNATURE_PAD_VERSION:-5.1.4}
FILE=signature_pad.umd.min.js

if [ -f "$DEST/$FILE" ] \
        && [ "$(cat "$DEST/.signature_pad-version" 2>/dev/null)" = "$VERSION" ]; then
    touch "$DEST/$FILE"
    exit 0
fi
echo "installing signature_pad $VERSION into $DEST"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "signature_pad@$VERSION" >/dev/null)
tar -xzf "$TMP"/signature_pad-*.tgz -C "$TMP"
mkdir -p "$DEST"
cp "$TMP/package/dist/$FILE" "$DEST/$FILE"
cp "$TMP/package/LICENSE" "$DEST/signature_pad.LICENSE"
echo "$VERSION" > "$DEST/.signature_pad-version"
