#!/bin/sh
# The program process of a split assertion test: serve.sh <memory_mb> <program.js>.
# Starts from the startup snapshot built for this heap limit when the image has
# one (a snapshot loads only under the V8 flags it was built with), else from
# split.js.
blob=/opt/rlce/runtime/serve-$1.blob
if [ -r "$blob" ]; then
  exec node --snapshot-blob "$blob" --max-old-space-size="$1" --no-warnings serve "$2"
fi
exec node --max-old-space-size="$1" /opt/rlce/runtime/split.js serve "$2"
