package wire

// Run in the image: GO111MODULE=off GOPATH=/opt/rlce/runtime/split:/usr/share/gocode go test rlce/wire

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func roundTrip(t *testing.T, v interface{}) {
	t.Helper()
	rv := reflect.ValueOf(&v).Elem() // static type interface{}: exercises 'A'
	var e Encoder
	if err := e.Value(rv); err != nil {
		t.Fatalf("encode %#v: %v", v, err)
	}
	d := NewDecoder(e.Bytes())
	got, err := d.Value(rv.Type())
	if err != nil || d.End() != nil {
		t.Fatalf("decode %#v: %v", v, err)
	}
	if !reflect.DeepEqual(got.Interface(), v) {
		t.Fatalf("round trip %#v -> %#v", v, got.Interface())
	}
	// and with its own static type
	if v != nil {
		var e2 Encoder
		if err := e2.Value(reflect.ValueOf(v)); err != nil {
			t.Fatal(err)
		}
		d2 := NewDecoder(e2.Bytes())
		got2, err := d2.Value(reflect.TypeOf(v))
		if err != nil || d2.End() != nil || !reflect.DeepEqual(got2.Interface(), v) {
			t.Fatalf("static round trip %#v: %v", v, err)
		}
	}
}

func TestRoundTrips(t *testing.T) {
	for _, v := range []interface{}{
		nil, true, false, 0, -1, math.MinInt64, int8(-128), int16(7), int32(-5), 'x', int64(1) << 62,
		uint(3), uint8(255), byte(0), uint16(65535), uint32(1 << 31), uint64(math.MaxInt64),
		1.5, float32(0.1), math.Inf(-1), "", "héllo\x00\xff",
		[]int{}, []int(nil), []int{1, 2}, [2]int{3, 4}, [0]string{}, [][]int{nil, {}, {1}},
		[]interface{}{1, "a", nil, 2.5, []interface{}{}, map[string]int{"k": 1}},
		map[string]int{}, map[string]int(nil), map[rune]int{'a': 1, 'b': 2},
		map[interface{}]interface{}{"p": "x", 5: nil, 2.5: []int{1}, [2]int{1, 2}: true},
		[2]interface{}{"a", false}, map[[2]int]string{{1, 2}: "x"}, []byte("abc"),
	} {
		roundTrip(t, v)
	}
	// NaN: DeepEqual never holds; check the bits
	var e Encoder
	e.Value(reflect.ValueOf(math.NaN()))
	got, err := NewDecoder(e.Bytes()).Value(reflect.TypeOf(0.0))
	if err != nil || !math.IsNaN(got.Float()) {
		t.Fatal("NaN")
	}
}

func TestUncarried(t *testing.T) {
	type named int
	cyc := []interface{}{nil}
	cyc[0] = cyc
	for _, v := range []interface{}{
		struct{}{}, &struct{}{}, named(1), func() {}, make(chan int), complex(1, 2), uint64(math.MaxInt64) + 1,
		uintptr(1), []interface{}{errors.New("x")}, cyc,
	} {
		var e Encoder
		if err := e.Value(reflect.ValueOf(&v).Elem()); err == nil || !errors.Is(err, ErrUncarried) {
			t.Errorf("%T carried (%v)", v, err)
		}
	}
}

func frame(parts ...interface{}) []byte {
	var b []byte
	for _, p := range parts {
		switch x := p.(type) {
		case byte:
			b = append(b, x)
		case rune:
			b = append(b, byte(x))
		case uint32:
			b = binary.BigEndian.AppendUint32(b, x)
		case uint64:
			b = binary.BigEndian.AppendUint64(b, x)
		case string:
			b = append(b, x...)
		}
	}
	return b
}

func TestMalformed(t *testing.T) {
	deep := strings.Repeat("A\x00\x00\x00\x0e[]interface {}l\x00\x00\x00\x01", 120) + "N"
	cases := []struct {
		name string
		typ  interface{}
		body []byte
	}{
		{"wrong tag", false, frame('i', uint64(1))},
		{"N for bool", false, frame('N')},
		{"truncated int", 0, frame('i', uint32(1))},
		{"int8 range", int8(0), frame('i', uint64(200))},
		{"uint negative", uint(0), frame('i', uint64(math.MaxUint64))},
		{"float32 inexact", float32(0), frame('d', math.Float64bits(0.1))},
		{"string count", "", frame('s', uint32(1000), "ab")},
		{"list count", []int{}, frame('l', uint32(1<<31))},
		{"list count vs bytes", []int{}, frame('l', uint32(3), 'i', uint64(1))},
		{"array count", [2]int{}, frame('l', uint32(3), 'i', uint64(1), 'i', uint64(1), 'i', uint64(1))},
		{"N for array", [2]int{}, frame('N')},
		{"duplicate key", map[string]int{}, frame('m', uint32(2), 's', uint32(1), "a", 'i', uint64(1), 's', uint32(1), "a", 'i', uint64(2))},
		{"unhashable key", map[interface{}]int{}, frame('m', uint32(1), 'A', uint32(5), "[]int", 'N', 'i', uint64(1))},
		{"unhashable in array key", map[interface{}]int{}, frame('m', uint32(1), 'A', uint32(16), "[1]interface {}", 'l', uint32(1), 'A', uint32(5), "[]int", 'N', 'i', uint64(1))},
		{"named type", new(interface{}), frame('A', uint32(9), "main.Evil", 'N')},
		{"non-canonical name", new(interface{}), frame('A', uint32(4), "byte", 'i', uint64(1))},
		{"spaced name", new(interface{}), frame('A', uint32(6), "[] int", 'N')},
		{"interface as dynamic type", new(interface{}), frame('A', uint32(12), "interface {}", 'N')},
		{"huge array type", new(interface{}), frame('A', uint32(22), "[1048576][1048576]int", 'N')},
		{"pointer type name", new(interface{}), frame('A', uint32(4), "*int", 'N')},
		{"call in type name", new(interface{}), frame('A', uint32(13), "[len(\"x\")]int", 'N')},
		{"too deep", new(interface{}), []byte(deep)},
		{"set tag", []int{}, frame('S', uint32(0))},
		{"tuple for list", []int{}, frame('t', uint32(0))},
	}
	for _, c := range cases {
		typ := reflect.TypeOf(c.typ)
		if typ.Kind() == reflect.Ptr {
			typ = typ.Elem()
		}
		d := NewDecoder(c.body)
		_, err := d.Value(typ)
		if err == nil {
			err = d.End()
		}
		if err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: accepted (%v)", c.name, err)
		}
	}
	// trailing bytes
	d := NewDecoder(frame('T', 'T'))
	if _, err := d.Value(reflect.TypeOf(true)); err != nil || d.End() == nil {
		t.Error("trailing bytes accepted")
	}
}

func TestParseType(t *testing.T) {
	ok := map[string]string{
		"int": "int", "byte": "uint8", "rune": "int32", "any": "interface {}", "interface{}": "interface {}",
		"[]interface{}": "[]interface {}", "[2]float64": "[2]float64", "map[interface{}]interface{}": "map[interface {}]interface {}",
		"[][2]int": "[][2]int", "map[rune]int": "map[int32]int", "(int)": "int",
	}
	for in, want := range ok {
		got, err := ParseType(in)
		if err != nil || got.String() != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{
		"error", "*int", "struct{}", "func()", "chan int", "complex128", "uintptr", "T", "main.T", "[N]int",
		"map[[]int]int", "interface{ M() }", "[-1]int", "[1<<40]int", "[]int; os.Exit(0)", "int /* x */ + 1",
		strings.Repeat("[]", 40) + "int", strings.Repeat("x", 600),
	} {
		if _, err := ParseType(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A small map arrives in the order of its slots (HumanEval-X Go/95).
func TestMapOrder(t *testing.T) {
	for i := 0; i < 50; i++ {
		m := map[interface{}]interface{}{"p": 1, 5: 2, "a": 3}
		keys, _ := mapEntries(reflect.ValueOf(m))
		if keys[0].Interface() != "p" || keys[1].Interface() != 5 || keys[2].Interface() != "a" {
			t.Fatalf("order %v", keys)
		}
	}
}
