// rlce's harness for Go assertion tests; see docs/SECURITY.md, "Compiled runtimes".
//
// TestMain wraps the test run. The runner's nonce (fd 3) is read here; a
// program's init() runs earlier and could read it first, but then the pipe
// is empty and the harness refuses to go on. The nonce goes back on fd 4 only
// if every test passed: os.Exit(0) in an init() or a test never produces it.

package main

import (
	"io"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	in := os.NewFile(3, "rlce-nonce")
	nonce, err := io.ReadAll(in)
	in.Close()
	if err != nil || len(nonce) != 32 {
		os.Exit(111) // someone read it first
	}
	code := m.Run()
	if code == 0 {
		out := os.NewFile(4, "rlce-record")
		out.Write(nonce)
		out.Close()
	}
	os.Exit(code)
}
