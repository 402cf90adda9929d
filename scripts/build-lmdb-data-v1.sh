#!/usr/bin/env bash
# Rebuild lmdb-js's native addon from its bundled LMDB 0.9.29 sources (data format 1), the LMDB
# that Debian's lmdb-utils, python3-lmdb and Caffe use. The npm prebuilt binary is LMDB 1.0
# ("0.9.90", data format 2), whose files those tools refuse ("MDB_INVALID"). lmdb-js documents
# this switch (`--use_data_v1`, env LMDB_DATA_V1) in its README; it needs g++, make, python3 and
# Node's headers (node-gyp, bundled with npm, builds against them; nothing is downloaded).
# The build lands in node_modules/lmdb/build/Release, which lmdb-js loads before its prebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."

# Node's headers next to the running node (Debian/NodeSource: /usr/include/node) so node-gyp
# does not try to download them.
node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

log="$(mktemp)"
if ! LMDB_DATA_V1=true npm_config_build_from_source=true npm rebuild lmdb --foreground-scripts >"$log" 2>&1; then
  cat "$log" >&2
  echo "building lmdb-js for LMDB data format 1 failed (needs g++, make, python3, Node headers)" >&2
  exit 1
fi
rm -f "$log"
node -e "import('lmdb').then(({ version }) => {
  if (version.patch >= 70) { console.error('lmdb still loads the LMDB 1.0 binary: ' + version.versionString); process.exit(1); }
  console.log('lmdb-js now uses ' + version.versionString + ' (LMDB data format 1)');
})"
