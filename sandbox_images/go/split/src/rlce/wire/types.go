// Package wire is rlce's value channel for Go (docs/SPLIT_TESTS.md, "The
// wire"): the closed grammar of Go types it carries, the frame codec, and
// the program side's server. The test side (package rlce/harness) and the
// test-side stub generator use the same grammar, so a type the generator
// accepts is a type the codec can carry.
package wire

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
)

const (
	// MaxTypeName bounds a type expression (a report's, or an 'A' value's type name).
	MaxTypeName = 512
	// maxTypeDepth bounds the nesting of a type expression.
	maxTypeDepth = 32
	// maxTypeSize bounds the size of one value of an accepted type: an array
	// type is allocated whole before its elements are read.
	maxTypeSize = 1 << 20
)

var (
	tBool   = reflect.TypeOf(false)
	tString = reflect.TypeOf("")
	tAny    = reflect.TypeOf((*interface{})(nil)).Elem()

	// predeclared maps the predeclared type names of the grammar to their types.
	predeclared = map[string]reflect.Type{
		"bool": tBool, "string": tString,
		"int": reflect.TypeOf(int(0)), "int8": reflect.TypeOf(int8(0)), "int16": reflect.TypeOf(int16(0)),
		"int32": reflect.TypeOf(int32(0)), "rune": reflect.TypeOf(rune(0)), "int64": reflect.TypeOf(int64(0)),
		"uint": reflect.TypeOf(uint(0)), "uint8": reflect.TypeOf(uint8(0)), "byte": reflect.TypeOf(byte(0)),
		"uint16": reflect.TypeOf(uint16(0)), "uint32": reflect.TypeOf(uint32(0)), "uint64": reflect.TypeOf(uint64(0)),
		"float32": reflect.TypeOf(float32(0)), "float64": reflect.TypeOf(float64(0)),
		"any": tAny,
	}
)

// ParseType turns a Go type expression into its reflect.Type, accepting only
// the closed grammar
//
//	T = bool | int | int8..int64 | uint | uint8..uint64 | byte | rune | float32 | float64 | string
//	  | []T | [N]T | map[K]T | interface{} | any     (K: a comparable T)
//
// Go's own parser reads the text; the walk below refuses every other node.
// Names resolve to the predeclared types whatever the source declared (the
// text is untrusted: a report, or a type name sent over the wire).
func ParseType(text string) (reflect.Type, error) {
	if len(text) > MaxTypeName {
		return nil, errors.New("type expression too long")
	}
	expr, err := parser.ParseExpr(text)
	if err != nil {
		return nil, fmt.Errorf("not a type expression: %v", err)
	}
	return typeOf(expr, 0)
}

func typeOf(e ast.Expr, depth int) (reflect.Type, error) {
	if depth > maxTypeDepth {
		return nil, errors.New("type nested too deeply")
	}
	switch x := e.(type) {
	case *ast.Ident:
		if t, ok := predeclared[x.Name]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("type %s is not carried by the wire", x.Name)
	case *ast.ParenExpr:
		return typeOf(x.X, depth+1)
	case *ast.InterfaceType:
		if x.Methods != nil && len(x.Methods.List) > 0 {
			return nil, errors.New("only the empty interface is carried by the wire")
		}
		return tAny, nil
	case *ast.ArrayType:
		elem, err := typeOf(x.Elt, depth+1)
		if err != nil {
			return nil, err
		}
		if x.Len == nil {
			return reflect.SliceOf(elem), nil
		}
		lit, ok := x.Len.(*ast.BasicLit)
		if !ok || lit.Kind != token.INT {
			return nil, errors.New("array length must be an integer literal")
		}
		n, err := strconv.ParseInt(lit.Value, 0, 64)
		if err != nil || n < 0 {
			return nil, errors.New("bad array length")
		}
		if elem.Size() > 0 && uint64(n) > uint64(maxTypeSize)/uint64(elem.Size()) || n > maxTypeSize {
			return nil, errors.New("array type too large")
		}
		return reflect.ArrayOf(int(n), elem), nil
	case *ast.MapType:
		key, err := typeOf(x.Key, depth+1)
		if err != nil {
			return nil, err
		}
		if !key.Comparable() {
			return nil, errors.New("map key type is not comparable")
		}
		val, err := typeOf(x.Value, depth+1)
		if err != nil {
			return nil, err
		}
		return reflect.MapOf(key, val), nil
	}
	return nil, errors.New("type is not carried by the wire")
}

// carried reports whether t (a value's dynamic or static type) is in the
// grammar: predeclared basic types and unnamed composites of them.
func carried(t reflect.Type, depth int) bool {
	if depth > maxTypeDepth {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return t.PkgPath() == "" && predeclared[t.Name()] == t
	case reflect.Interface:
		return t == tAny
	case reflect.Slice, reflect.Array:
		return t.Name() == "" && t.Size() <= maxTypeSize && carried(t.Elem(), depth+1)
	case reflect.Map:
		return t.Name() == "" && t.Key().Comparable() && carried(t.Key(), depth+1) && carried(t.Elem(), depth+1)
	}
	return false
}

// Carried reports whether the wire carries values of static type t.
func Carried(t reflect.Type) bool { return carried(t, 0) }
