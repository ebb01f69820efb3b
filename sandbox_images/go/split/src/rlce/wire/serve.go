package wire

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"reflect"
)

// Funcs maps the program's top-level function names to the functions; the
// generated dispatcher (rlce-go program) builds it.
type Funcs map[string]interface{}

// ChannelFD is the program process's end of the value channel.
const ChannelFD = 3

// maxRaised bounds the message of a "raised" reply.
const maxRaised = 4096

// Serve answers the test's requests on fd 3 until end of file, then returns
// (the program exits 0). It runs in the program's process, as the candidate:
// nothing here is trusted by the test side, which checks every reply.
func Serve(funcs Funcs) {
	ch := os.NewFile(ChannelFD, "rlce-channel")
	in := bufio.NewReaderSize(ch, 1<<16)
	for {
		body, err := ReadFrame(in)
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "rlce: bad request frame:", err)
			os.Exit(2)
		}
		reply := answer(funcs, body)
		if err := WriteFrame(ch, reply); err != nil {
			fmt.Fprintln(os.Stderr, "rlce: cannot reply:", err)
			os.Exit(2)
		}
	}
}

func raised(msg string) []byte {
	if len(msg) > maxRaised {
		msg = msg[:maxRaised]
	}
	var e Encoder
	e.Seq('t', 2)
	e.Str("raised")
	e.Str(msg)
	return e.Bytes()
}

// answer decodes one request t[s op, s function, i handle, l args], calls the
// function and encodes the reply.
func answer(funcs Funcs, body []byte) []byte {
	d := NewDecoder(body)
	if n, err := d.Head('t'); err != nil || n != 4 {
		return raised("rlce: bad request")
	}
	op, err := d.Str()
	if err != nil || op != "call" {
		return raised("rlce: bad request op")
	}
	name, err := d.Str()
	if err != nil {
		return raised("rlce: bad request")
	}
	if h, err := d.Int(); err != nil || h != 0 {
		return raised("rlce: bad request handle")
	}
	f, ok := funcs[name]
	if !ok {
		return raised("rlce: no function " + name)
	}
	fv := reflect.ValueOf(f)
	ft := fv.Type()
	n, err := d.Head('l')
	if err != nil || n != ft.NumIn() {
		return raised("rlce: bad argument count for " + name)
	}
	args := make([]reflect.Value, n)
	for i := range args {
		if args[i], err = d.Value(ft.In(i)); err != nil {
			return raised(fmt.Sprintf("rlce: argument %d of %s: %v", i, name, err))
		}
	}
	if d.End() != nil {
		return raised("rlce: bad request")
	}
	out, msg := call(fv, args)
	if msg != "" {
		return raised(msg)
	}
	var e Encoder
	e.Seq('t', 2)
	e.Str("ok")
	switch len(out) {
	case 0:
		e.Tag('N')
	case 1:
		err = e.Value(out[0])
	default:
		e.Seq('t', len(out))
		for _, o := range out {
			if err = e.Value(o); err != nil {
				break
			}
		}
	}
	if err != nil {
		return raised(fmt.Sprintf("rlce: result of %s: %v", name, err))
	}
	return e.Bytes()
}

// call runs the function on its own goroutine, so that a panic or a
// runtime.Goexit in it becomes a "raised" reply.
func call(fv reflect.Value, args []reflect.Value) (out []reflect.Value, msg string) {
	done := make(chan struct{})
	go func() {
		returned := false
		defer func() {
			if !returned {
				if r := recover(); r != nil {
					msg = fmt.Sprintf("panic: %v", r)
				} else {
					msg = "runtime.Goexit or panic(nil)"
				}
			}
			close(done)
		}()
		if fv.Type().IsVariadic() {
			out = fv.CallSlice(args)
		} else {
			out = fv.Call(args)
		}
		returned = true
	}()
	<-done
	return out, msg
}
