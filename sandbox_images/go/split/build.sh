#!/bin/sh
# Image-build step for split assertion tests (docs/SPLIT_TESTS.md): compile once,
# here, what every per-test build links against, so a per-test build is one
# `rlce-go` run, one `compile` and one `link` (no go command, no build cache):
#   /opt/rlce/go/pkg/...          archives of the standard library (CGO_ENABLED=0),
#                                 testify and its dependencies, rlce/wire, rlce/harness
#   /opt/rlce/go/importcfg.program  what the program build may import
#   /opt/rlce/go/importcfg.test     the same plus rlce/harness (testing/internal/testdeps)
#   /opt/rlce/go/bin/rlce-go      the dispatcher / stub generator
set -eu
SRC=$(dirname "$0")
OUT=/opt/rlce/go
TOOL=$(go env GOTOOLDIR)
export GO111MODULE=off CGO_ENABLED=0 GOFLAGS=-trimpath GOENV=off HOME=/tmp \
  GOPATH="$(cd "$SRC" && pwd):/usr/share/gocode" GOCACHE=/tmp/rlce-split-gocache
mkdir -p "$OUT/pkg" "$OUT/bin"
: > "$OUT/importcfg.program"
go list -export -deps -f '{{if .Export}}{{.ImportPath}} {{.Export}}{{end}}' \
  std github.com/stretchr/testify/... rlce/wire |
while read -r path export; do
  mkdir -p "$OUT/pkg/$(dirname "$path")"
  cp "$export" "$OUT/pkg/$path.a"
  echo "packagefile $path=$OUT/pkg/$path.a" >> "$OUT/importcfg.program"
done
# The harness imports testing/internal/testdeps as go test's generated main
# does; the go command refuses that import outside std, the compiler does not.
cp "$OUT/importcfg.program" "$OUT/importcfg.test"
"$TOOL/compile" -p rlce/harness -importcfg "$OUT/importcfg.test" -complete -trimpath "$SRC" \
  -o "$OUT/pkg/rlce/harness.a" "$SRC"/src/rlce/harness/*.go
echo "packagefile rlce/harness=$OUT/pkg/rlce/harness.a" >> "$OUT/importcfg.test"
go build -o "$OUT/bin/rlce-go" rlce/cmd/rlce-go
ln -sf "$TOOL/compile" "$TOOL/link" "$OUT/bin/"
rm -rf "$GOCACHE"
chmod -R a+rX "$OUT"
