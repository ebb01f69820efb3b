package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
)

const (
	// MaxFrame is the largest frame either side writes or reads.
	MaxFrame = 16 << 20
	// MaxDepth is the deepest value nesting either side writes or reads.
	MaxDepth = 100
)

// ErrUncarried: a value (or its type) that the wire cannot carry.
var ErrUncarried = errors.New("value not carried by the wire")

// Encoder appends values to a frame body, directed by their static types.
type Encoder struct {
	buf []byte
}

// Bytes is the frame body written so far.
func (e *Encoder) Bytes() []byte { return e.buf }

func (e *Encoder) u32(n int) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n)) }

// Tag writes a bare tag (N, T, F).
func (e *Encoder) Tag(c byte) { e.buf = append(e.buf, c) }

// Str writes an 's' value.
func (e *Encoder) Str(s string) {
	e.buf = append(e.buf, 's')
	e.u32(len(s))
	e.buf = append(e.buf, s...)
}

// Int writes an 'i' value.
func (e *Encoder) Int(v int64) {
	e.buf = append(e.buf, 'i')
	e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v))
}

// Seq writes the head of an 'l', 't', 'm' or 'S' value.
func (e *Encoder) Seq(tag byte, n int) {
	e.buf = append(e.buf, tag)
	e.u32(n)
}

// Value writes v (whose type is its static type) as one wire value.
func (e *Encoder) Value(v reflect.Value) error { return e.value(v, 0) }

func (e *Encoder) value(v reflect.Value, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrUncarried, MaxDepth)
	}
	if len(e.buf) > MaxFrame {
		return fmt.Errorf("%w: larger than %d bytes", ErrUncarried, MaxFrame)
	}
	t := v.Type()
	switch t.Kind() {
	case reflect.Bool:
		if v.Bool() {
			e.Tag('T')
		} else {
			e.Tag('F')
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.Int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u := v.Uint()
		if u > math.MaxInt64 {
			return fmt.Errorf("%w: %d does not fit the wire's i64", ErrUncarried, u)
		}
		e.Int(int64(u))
	case reflect.Float32, reflect.Float64:
		e.buf = append(e.buf, 'd')
		e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(v.Float()))
	case reflect.String:
		e.Str(v.String())
	case reflect.Slice:
		if v.IsNil() {
			e.Tag('N') // a nil slice is not an empty one (reflect.DeepEqual tells them apart)
			return nil
		}
		return e.seq(v, depth)
	case reflect.Array:
		return e.seq(v, depth)
	case reflect.Map:
		if v.IsNil() {
			e.Tag('N')
			return nil
		}
		keys, vals := mapEntries(v)
		e.Seq('m', len(keys))
		for i := range keys {
			if err := e.value(keys[i], depth+1); err != nil {
				return err
			}
			if err := e.value(vals[i], depth+1); err != nil {
				return err
			}
		}
	case reflect.Interface:
		if t != tAny {
			return fmt.Errorf("%w: type %s", ErrUncarried, t)
		}
		if v.IsNil() {
			e.Tag('N')
			return nil
		}
		inner := v.Elem()
		if !carried(inner.Type(), 0) {
			return fmt.Errorf("%w: type %s", ErrUncarried, inner.Type())
		}
		e.buf = append(e.buf, 'A')
		e.Str(inner.Type().String())
		return e.value(inner, depth+1)
	default:
		return fmt.Errorf("%w: type %s", ErrUncarried, t)
	}
	return nil
}

// mapEntries lists a map's entries in the order of its slots when it has
// one hash bucket (2 to 7 entries), else in one iteration's order.
//
// Why: the receiver inserts the entries in wire order, and a small Go map
// keeps its entries in insertion order; ranging over it starts at a random
// slot and wraps. A program whose answer depends on that order (HumanEval-X
// Go/95's canonical solution does) then sees the same distribution of orders
// as when the test's own map was passed in process. One iteration gives the
// cyclic order; the first slot is the most frequent first key (a start
// offset past the last entry wraps to it).
func mapEntries(v reflect.Value) (keys, vals []reflect.Value) {
	it := v.MapRange()
	for it.Next() {
		keys = append(keys, it.Key())
		vals = append(vals, it.Value())
	}
	n := len(keys)
	if n < 2 || n >= 8 {
		return keys, vals
	}
	counts := make([]int, n)
	for s := 0; s < 256; s++ {
		it := v.MapRange()
		if !it.Next() {
			return keys, vals
		}
		k := it.Key().Interface()
		found := false
		for i := range keys {
			if keys[i].Interface() == k {
				counts[i]++
				found = true
				break
			}
		}
		if !found { // a NaN key: equal to nothing
			return keys, vals
		}
	}
	first := 0
	for i := range counts {
		if counts[i] > counts[first] {
			first = i
		}
	}
	rk, rv := make([]reflect.Value, 0, n), make([]reflect.Value, 0, n)
	rk = append(append(rk, keys[first:]...), keys[:first]...)
	rv = append(append(rv, vals[first:]...), vals[:first]...)
	return rk, rv
}

func (e *Encoder) seq(v reflect.Value, depth int) error {
	n := v.Len()
	e.Seq('l', n)
	for i := 0; i < n; i++ {
		if err := e.value(v.Index(i), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// ErrMalformed: a frame or value that breaks the wire's rules or does not
// fit the receiver's declared type.
var ErrMalformed = errors.New("malformed value")

func malformed(format string, args ...interface{}) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Decoder reads values from one frame body, directed by the receiver's types.
// Every count is checked against the bytes left before anything is allocated.
type Decoder struct {
	b   []byte
	off int
}

// NewDecoder reads from body.
func NewDecoder(body []byte) *Decoder { return &Decoder{b: body} }

// End fails unless every byte of the frame was read.
func (d *Decoder) End() error {
	if d.off != len(d.b) {
		return malformed("%d trailing bytes", len(d.b)-d.off)
	}
	return nil
}

func (d *Decoder) left() int { return len(d.b) - d.off }

func (d *Decoder) take(n int) ([]byte, error) {
	if n < 0 || n > d.left() {
		return nil, malformed("truncated")
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p, nil
}

func (d *Decoder) tag() (byte, error) {
	p, err := d.take(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

func (d *Decoder) u32() (int, error) {
	p, err := d.take(4)
	if err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(p)
	if uint64(n) > uint64(d.left()) {
		return 0, malformed("count %d larger than the %d bytes left", n, d.left())
	}
	return int(n), nil
}

// Head reads the head of a sequence value with the given tag; its count is
// at most the bytes left (each value takes at least one byte).
func (d *Decoder) Head(want byte) (int, error) {
	c, err := d.tag()
	if err != nil {
		return 0, err
	}
	if c != want {
		return 0, malformed("tag %q where %q was expected", c, want)
	}
	return d.u32()
}

// Str reads an 's' value.
func (d *Decoder) Str() (string, error) {
	n, err := d.Head('s')
	if err != nil {
		return "", err
	}
	p, err := d.take(n)
	return string(p), err
}

// Int reads an 'i' value.
func (d *Decoder) Int() (int64, error) {
	c, err := d.tag()
	if err != nil {
		return 0, err
	}
	if c != 'i' {
		return 0, malformed("tag %q where 'i' was expected", c)
	}
	p, err := d.take(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(p)), nil
}

// Value reads one value of type t into a new reflect.Value.
func (d *Decoder) Value(t reflect.Type) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	return v, d.Into(v)
}

// Into reads one value into v (settable, of v's type). A panic on the way
// (none is expected) is a malformed value: decoding fails closed.
func (d *Decoder) Into(v reflect.Value) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = malformed("decoding panicked: %v", r)
		}
	}()
	return d.into(v, 0)
}

// into reads one value into the settable v, whose type directs the decoding.
func (d *Decoder) into(v reflect.Value, depth int) error {
	if depth > MaxDepth {
		return malformed("nested deeper than %d", MaxDepth)
	}
	t := v.Type()
	c, err := d.tag()
	if err != nil {
		return err
	}
	wrong := func() error { return malformed("tag %q for a value of type %s", c, t) }
	switch t.Kind() {
	case reflect.Bool:
		switch c {
		case 'T':
			v.SetBool(true)
		case 'F':
			v.SetBool(false)
		default:
			return wrong()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if c != 'i' {
			return wrong()
		}
		p, err := d.take(8)
		if err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint64(p))
		if v.OverflowInt(n) {
			return malformed("%d out of range for %s", n, t)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if c != 'i' {
			return wrong()
		}
		p, err := d.take(8)
		if err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint64(p))
		if n < 0 || v.OverflowUint(uint64(n)) {
			return malformed("%d out of range for %s", n, t)
		}
		v.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		if c != 'd' {
			return wrong()
		}
		p, err := d.take(8)
		if err != nil {
			return err
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(p))
		if t.Kind() == reflect.Float32 && float64(float32(f)) != f && !math.IsNaN(f) {
			return malformed("%v is not a float32", f)
		}
		v.SetFloat(f)
	case reflect.String:
		if c != 's' {
			return wrong()
		}
		n, err := d.u32()
		if err != nil {
			return err
		}
		p, _ := d.take(n)
		v.SetString(string(p))
	case reflect.Slice:
		if c == 'N' {
			v.Set(reflect.Zero(t))
			return nil
		}
		if c != 'l' {
			return wrong()
		}
		n, err := d.u32()
		if err != nil {
			return err
		}
		if uint64(n)*uint64(minBytes(t.Elem())) > uint64(d.left()) {
			return malformed("count %d larger than the bytes left allow", n)
		}
		s := reflect.MakeSlice(t, n, n)
		for i := 0; i < n; i++ {
			if err := d.into(s.Index(i), depth+1); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Array:
		if c != 'l' {
			return wrong()
		}
		n, err := d.u32()
		if err != nil {
			return err
		}
		if n != t.Len() {
			return malformed("%d values for a %s", n, t)
		}
		for i := 0; i < n; i++ {
			if err := d.into(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		if c == 'N' {
			v.Set(reflect.Zero(t))
			return nil
		}
		if c != 'm' {
			return wrong()
		}
		n, err := d.u32()
		if err != nil {
			return err
		}
		if uint64(n)*uint64(minBytes(t.Key())+minBytes(t.Elem())) > uint64(d.left()) {
			return malformed("count %d larger than the bytes left allow", n)
		}
		m := reflect.MakeMapWithSize(t, n)
		for i := 0; i < n; i++ {
			k := reflect.New(t.Key()).Elem()
			if err := d.into(k, depth+1); err != nil {
				return err
			}
			if !hashable(k, 0) {
				return malformed("map key that cannot be hashed")
			}
			if m.MapIndex(k).IsValid() {
				return malformed("duplicate map key")
			}
			e := reflect.New(t.Elem()).Elem()
			if err := d.into(e, depth+1); err != nil {
				return err
			}
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Interface:
		if t != tAny {
			return malformed("type %s", t)
		}
		if c == 'N' {
			v.Set(reflect.Zero(t))
			return nil
		}
		if c != 'A' {
			return wrong()
		}
		name, err := d.Str()
		if err != nil {
			return err
		}
		dyn, err := dynamicType(name)
		if err != nil {
			return err
		}
		inner := reflect.New(dyn).Elem()
		if err := d.into(inner, depth+1); err != nil {
			return err
		}
		v.Set(inner)
	default:
		return malformed("type %s", t)
	}
	return nil
}

// hashable reports whether v can be a map key without a run-time panic: an
// interface inside it (at any depth of arrays) must hold a comparable value.
func hashable(v reflect.Value, depth int) bool {
	if depth > MaxDepth {
		return false
	}
	switch v.Kind() {
	case reflect.Interface:
		return v.IsNil() || hashable(v.Elem(), depth+1)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if !hashable(v.Index(i), depth+1) {
				return false
			}
		}
		return true
	}
	return v.Type().Comparable()
}

// minBytes is the fewest bytes a value of type t takes on the wire: what
// bounds a count before its container is allocated.
func minBytes(t reflect.Type) int {
	if t.Kind() == reflect.Array {
		n := 5 + t.Len()*minBytes(t.Elem())
		if n > MaxFrame {
			return MaxFrame + 1
		}
		return n
	}
	return 1
}

// dynamicTypes caches the types of the names seen in 'A' values.
var dynamicTypes = map[string]reflect.Type{}

// dynamicType is the type an 'A' value names: the grammar's, and spelled
// exactly as Go's %T spells it (so one type has one name on the wire).
func dynamicType(name string) (reflect.Type, error) {
	if t, ok := dynamicTypes[name]; ok {
		return t, nil
	}
	t, err := ParseType(name)
	if err != nil {
		return nil, malformed("type name %.80q: %v", name, err)
	}
	if t.Kind() == reflect.Interface {
		return nil, malformed("an interface type as a dynamic type")
	}
	if t.String() != name {
		return nil, malformed("type name %.80q is not spelled as %%T spells it", name)
	}
	if len(dynamicTypes) < 1024 {
		dynamicTypes[name] = t
	}
	return t, nil
}

// ReadFrame reads one frame body from r. io.EOF only at a frame boundary.
func ReadFrame(r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, io.ErrUnexpectedEOF
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > MaxFrame {
		return nil, malformed("frame of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return body, nil
}

// WriteFrame writes body as one frame.
func WriteFrame(w io.Writer, body []byte) error {
	if len(body) > MaxFrame {
		return fmt.Errorf("%w: frame of %d bytes", ErrUncarried, len(body))
	}
	msg := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(msg, uint32(len(body)))
	_, err := w.Write(append(msg, body...))
	return err
}
