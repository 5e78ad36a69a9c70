#!/usr/bin/env bash
# Install the system packages the platform and its test suite need, when they are missing.
#
# `make test` and `make demo` call this, so the README's two commands work on a fresh Debian/Ubuntu
# machine with nothing installed by hand. As root with apt-get, missing packages are installed;
# otherwise the script names what is missing and carries on (the test suite then skips those tests
# loudly, and EXPATSI_REQUIRE_BROWSER=1 / EXPATSI_REQUIRE_POSTGRES=1 make a skip fatal).
#
#   usage: scripts/system-deps.sh [runtime|test]
#     runtime  what the app needs: WeasyPrint's Pango and HarfBuzz(-subset), CJK fonts, gettext
#     test     runtime + PostgreSQL (second test leg), Chromium (browser tests), poppler (PDF checks)
set -euo pipefail
what="${1:-test}"

declare -A need=(
  [libpango-1.0-0]=/usr/lib/*/libpango-1.0.so.0
  [libpangoft2-1.0-0]=/usr/lib/*/libpangoft2-1.0.so.0
  [libharfbuzz-subset0]=/usr/lib/*/libharfbuzz-subset.so.0
  [fonts-noto-cjk]=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
  [gettext]=/usr/bin/msgfmt
)
if [ "$what" = "test" ]; then
  need[chromium]=/usr/bin/chromium
  need[poppler-utils]=/usr/bin/pdftoppm
  need[postgresql]="/usr/lib/postgresql/*/bin/initdb"
fi

missing=()
for pkg in "${!need[@]}"; do
  # shellcheck disable=SC2086  # the pattern is meant to glob
  if ! compgen -G ${need[$pkg]} >/dev/null; then missing+=("$pkg"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages with apt: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "!!!! Missing system packages: ${missing[*]}"
  echo "!!!! Install them with: sudo apt-get install --no-install-recommends ${missing[*]}"
fi
