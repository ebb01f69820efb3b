// Package harness runs a Go assertion test in its own process, out of the
// program's (docs/SPLIT_TESTS.md): it reads the runner's nonce before any test
// code runs, runs the test's Test functions with package testing, reaches
// the program only through the stubs' Call over the value channel (fd 5),
// and writes nonce + test digest (fd 4) only when every test passed.
//
// Everything read from the channel is untrusted: a frame or value that
// breaks the wire's rules or does not fit the declared type ends the test
// process with 112; nothing the program sends is ever executed or parsed as
// code.
package harness

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"testing/internal/testdeps"

	"rlce/wire"
)

// Exit codes of the contract.
const (
	exitNonce       = 111
	exitMalformed   = 112
	exitUncarried   = 113
	exitRaised      = 115
	exitChannelGone = 116
)

const (
	nonceFD   = 3
	recordFD  = 4
	channelFD = 5
	nonceLen  = 32
)

var nonce []byte

// init runs before every package that imports harness, so before the test
// package's own variable initialisers and init functions.
func init() {
	f := os.NewFile(nonceFD, "rlce-nonce")
	if f == nil {
		die(exitNonce, "no nonce descriptor")
	}
	buf, err := io.ReadAll(io.LimitReader(f, nonceLen+1))
	f.Close()
	if err != nil || len(buf) != nonceLen {
		die(exitNonce, "the nonce was not there to read")
	}
	nonce = buf
}

func die(code int, msg string) {
	fmt.Fprintln(os.Stderr, "rlce:", msg)
	os.Exit(code)
}

// Test is one Test function of the test file.
type Test struct {
	Name string
	F    func(*testing.T)
}

// Tests lists the test file's Test functions in source order.
type Tests []Test

// Main runs the tests; the record goes to fd 4 only if all of them passed.
func Main(tests Tests, digest string) {
	its := make([]testing.InternalTest, len(tests))
	for i, t := range tests {
		its[i] = testing.InternalTest{Name: t.Name, F: t.F}
	}
	testdeps.ImportPath = "main"
	code := testing.MainStart(testdeps.TestDeps{}, its, nil, nil, nil).Run()
	if code != 0 {
		os.Exit(code)
	}
	rec := os.NewFile(recordFD, "rlce-record")
	if rec == nil {
		os.Exit(1)
	}
	if _, err := rec.Write(append(append([]byte{}, nonce...), digest...)); err != nil {
		os.Exit(1)
	}
	rec.Close()
	os.Exit(0)
}

var (
	mu sync.Mutex
	ch *os.File
	in *bufio.Reader
)

// Call sends one call of the program's function name with the arguments
// args (pointers to the stub's parameters) and stores the reply's results
// through results (pointers to the stub's results). Only returns on success.
func Call(name string, args []interface{}, results []interface{}) {
	mu.Lock()
	defer mu.Unlock()
	var e wire.Encoder
	e.Seq('t', 4)
	e.Str("call")
	e.Str(name)
	e.Int(0)
	e.Seq('l', len(args))
	for i, a := range args {
		if err := e.Value(reflect.ValueOf(a).Elem()); err != nil {
			die(exitUncarried, fmt.Sprintf("unsupported: function %s: argument %d: %v", name, i, err))
		}
	}
	if len(e.Bytes()) > wire.MaxFrame {
		die(exitUncarried, fmt.Sprintf("unsupported: function %s: arguments larger than a frame", name))
	}
	if ch == nil {
		ch = os.NewFile(channelFD, "rlce-channel")
		in = bufio.NewReaderSize(ch, 1<<16)
	}
	unsolicited()
	if err := wire.WriteFrame(ch, e.Bytes()); err != nil {
		die(exitChannelGone, "the program's process ended: "+err.Error())
	}
	body, err := wire.ReadFrame(in)
	if err != nil {
		if errors.Is(err, wire.ErrMalformed) {
			die(exitMalformed, "from the program: "+err.Error())
		}
		die(exitChannelGone, fmt.Sprintf("the program's process ended during a call of %s", name))
	}
	if in.Buffered() > 0 {
		die(exitMalformed, "from the program: data after the reply")
	}
	d := wire.NewDecoder(body)
	bad := func(err error) {
		die(exitMalformed, fmt.Sprintf("from the program, reply to %s: %v", name, err))
	}
	if n, err := d.Head('t'); err != nil || n != 2 {
		bad(fmt.Errorf("%w: not a reply", wire.ErrMalformed))
	}
	status, err := d.Str()
	if err != nil {
		bad(err)
	}
	switch status {
	case "ok":
	case "raised":
		msg, err := d.Str()
		if err != nil {
			bad(err)
		}
		if err := d.End(); err != nil {
			bad(err)
		}
		die(exitRaised, fmt.Sprintf("the program raised in %s: %.2000q", name, msg))
	default:
		bad(fmt.Errorf("%w: reply status %.40q", wire.ErrMalformed, status))
	}
	if err := decodeResults(d, results); err != nil {
		bad(err)
	}
	if err := d.End(); err != nil {
		bad(err)
	}
}

func decodeResults(d *wire.Decoder, results []interface{}) error {
	switch len(results) {
	case 0:
		var none interface{}
		if err := d.Into(reflect.ValueOf(&none).Elem()); err != nil {
			return err
		}
		if none != nil {
			return fmt.Errorf("%w: a value for a function without results", wire.ErrMalformed)
		}
		return nil
	case 1:
		return d.Into(reflect.ValueOf(results[0]).Elem())
	}
	n, err := d.Head('t')
	if err != nil {
		return err
	}
	if n != len(results) {
		return fmt.Errorf("%w: %d results where %d were expected", wire.ErrMalformed, n, len(results))
	}
	for _, r := range results {
		if err := d.Into(reflect.ValueOf(r).Elem()); err != nil {
			return err
		}
	}
	return nil
}

// unsolicited ends the test if the program sent anything before being asked
// (a reply to a request never sent), or closed the channel already.
func unsolicited() {
	if in.Buffered() > 0 {
		die(exitMalformed, "from the program: data no request asked for")
	}
	var b [1]byte
	for {
		n, _, err := syscall.Recvfrom(channelFD, b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if err == syscall.EINTR {
			continue
		}
		if err == nil && n > 0 {
			die(exitMalformed, "from the program: data no request asked for")
		}
		if err == nil && n == 0 {
			die(exitChannelGone, "the program's process ended before a call")
		}
		return
	}
}
