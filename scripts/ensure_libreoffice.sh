#!/bin/sh
# Make sure soffice exists: Tryton converts ODT reports (the invoice e-mailed
# to customers, tests/test_email.py) to PDF with LibreOffice
# ([report] convert_command). Debian's writer without GUI is the smallest
# package that converts ODT to PDF.
set -eu
if command -v soffice >/dev/null 2>&1; then
    echo "soffice present: $(soffice --version 2>/dev/null | head -n 1 || command -v soffice)"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "soffice missing; install it as root: apt-get install -y --no-install-recommends libreoffice-writer-nogui" >&2
    exit 1
fi
echo "installing libreoffice-writer-nogui with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends libreoffice-writer-nogui
soffice --version
