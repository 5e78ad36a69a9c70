#!/usr/bin/env bash
# Print the path of a Python ≥ 3.12 interpreter, or explain what to install and fail.
set -u
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.13 python3.12 python3.14)
if command -v pyenv >/dev/null 2>&1 || [ -d "${PYENV_ROOT:-$HOME/.pyenv}" ]; then
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for v in $(ls -d "$root"/versions/3.1[2-9]* 2>/dev/null | sort -rV); do candidates+=("$v/bin/python"); done
fi
candidates+=(python3 python)
for c in "${candidates[@]}"; do
  p=$(command -v "$c" 2>/dev/null) || continue
  if "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    echo "$p"; exit 0
  fi
done
echo "expatsi needs Python 3.12 or newer (Django 6). None found among: ${candidates[*]}." >&2
echo "Install one (e.g. 'apt-get install python3.12', 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
exit 1
