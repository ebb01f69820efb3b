// Command rlce-go generates the two sides of a split Go assertion test
// (docs/SPLIT_TESTS.md). It only reads and writes source text; it never runs
// the program's code.
//
//	rlce-go program main.go dispatch.go report.json
//	    As the candidate: give main.go the package clause "package main",
//	    rename a func main it defines, fix its imports (goimports' library),
//	    write the dispatcher (the process's main, serving fd 3) and the
//	    report: the program's top-level functions and their type expressions.
//
//	rlce-go test test.go report.json digest.txt stubs.go testmain.go
//	    As the judge: fix the test's imports, find the Test functions (none:
//	    exit 114) and the functions it uses but does not declare; for each
//	    one the report lists, a stub of the same signature whose body sends
//	    the call over the wire. The report is untrusted: every type is
//	    re-parsed with go/parser and must fit wire.ParseType's closed grammar
//	    (else exit 113 for a function the test uses); the stubs are printed
//	    from the parsed types, never from the report's text.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/tools/imports"

	"rlce/wire"
)

const (
	exitUnsupported = 113
	exitNoTest      = 114
	maxReport       = 60000
	maxSource       = 4 << 20
)

// Func is one top-level function of the program, as reported.
type Func struct {
	Name    string   `json:"name"`
	Params  []string `json:"params"`
	Results []string `json:"results"`
	Generic bool     `json:"generic,omitempty"`
}

// Report is what the program build tells the test build.
type Report struct {
	Version int    `json:"version"`
	Funcs   []Func `json:"funcs"`
}

func fail(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "program" && len(os.Args) == 5 {
		program(os.Args[2], os.Args[3], os.Args[4])
		return
	}
	if len(os.Args) >= 2 && os.Args[1] == "test" && len(os.Args) == 7 {
		test(os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6])
		return
	}
	fail(2, "usage: rlce-go program main.go dispatch.go report.json | test test.go report.json digest.txt stubs.go testmain.go")
}

func readSource(path string) []byte {
	src, err := os.ReadFile(path)
	if err != nil {
		fail(1, "%v", err)
	}
	if len(src) > maxSource {
		fail(1, "%s: source larger than %d bytes", path, maxSource)
	}
	return src
}

// edit is a replacement of src[start:end].
type edit struct {
	start, end int
	text       string
}

func apply(src []byte, edits []edit) []byte {
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	for _, e := range edits {
		src = append(src[:e.start:e.start], append([]byte(e.text), src[e.end:]...)...)
	}
	return src
}

// asMainPackage gives src the package clause "package main": HumanEval-X's
// prompts start at their imports, MultiPL-E's name their own package. It
// also renames the identifiers resolved to a top-level func main (when
// renameMain, the program side), returning the rewritten source.
func asMainPackage(path string, src []byte, renameMain bool) []byte {
	// Is the first token (comments aside) the package keyword?
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile(path, -1, len(src)), src, nil, 0)
	if _, tok, _ := s.Scan(); tok != token.PACKAGE {
		src = append([]byte("package main\n\n"), src...)
	}
	fset = token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.AllErrors)
	if err != nil {
		fail(1, "%v", err)
	}
	var edits []edit
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	if f.Name.Name != "main" {
		edits = append(edits, edit{off(f.Name.Pos()), off(f.Name.End()), "main"})
	}
	if renameMain {
		if obj := f.Scope.Lookup("main"); obj != nil && obj.Kind == ast.Fun {
			name := "rlceProgramMain"
			for i := 0; f.Scope.Lookup(name) != nil; i++ {
				name = "rlceProgramMain" + strconv.Itoa(i)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && id.Name == "main" && id.Obj == obj {
					edits = append(edits, edit{off(id.Pos()), off(id.End()), name})
				}
				return true
			})
		}
	}
	return apply(src, edits)
}

// fixImports is goimports: add the imports a file uses, drop those it does
// not (HumanEval-X wrote program and test as one file).
func fixImports(path string, src []byte) []byte {
	out, err := imports.Process(path, src, &imports.Options{Comments: true, TabIndent: true, TabWidth: 8})
	if err != nil {
		fail(1, "%v", err)
	}
	return out
}

func write(path string, data []byte) {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		fail(1, "%v", err)
	}
}

// ---- program side

func program(mainPath, dispatchPath, reportPath string) {
	src := fixImports(mainPath, asMainPackage(mainPath, readSource(mainPath), true))
	write(mainPath, src)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, mainPath, src, 0)
	if err != nil {
		fail(1, "%v", err)
	}
	rep := Report{Version: 1, Funcs: []Func{}}
	var callable []string
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil {
			continue
		}
		name := fd.Name.Name
		if name == "_" || name == "init" || name == "main" || !token.IsIdentifier(name) {
			continue
		}
		fn := Func{Name: name, Params: typeList(fd.Type.Params), Results: typeList(fd.Type.Results)}
		if fd.Type.TypeParams != nil && len(fd.Type.TypeParams.List) > 0 {
			fn.Generic = true // a generic function has no value to call: not in the dispatcher
		} else {
			callable = append(callable, name)
		}
		rep.Funcs = append(rep.Funcs, fn)
	}
	out, _ := json.Marshal(rep)
	if len(out) > maxReport {
		fail(1, "rlce: the program declares too many functions for the report (%d bytes)", len(out))
	}
	write(reportPath, out)
	var b bytes.Buffer
	b.WriteString("// Code generated by rlce-go; the program process's main, serving the value channel.\n\npackage main\n\n")
	b.WriteString("import rlcewire \"rlce/wire\"\n\nfunc main() {\n\trlcewire.Serve(rlcewire.Funcs{\n")
	for _, n := range callable {
		fmt.Fprintf(&b, "\t\t%q: %s,\n", n, n)
	}
	b.WriteString("\t})\n}\n")
	write(dispatchPath, b.Bytes())
}

// typeList is a field list's types, one per name, as Go source text; a type
// too long for the report is reported empty (so unsupported).
func typeList(fl *ast.FieldList) []string {
	out := []string{}
	if fl == nil {
		return out
	}
	for _, field := range fl.List {
		t := types.ExprString(field.Type)
		if len(t) > wire.MaxTypeName {
			t = ""
		}
		n := len(field.Names)
		if n == 0 {
			n = 1
		}
		for i := 0; i < n; i++ {
			out = append(out, t)
		}
	}
	return out
}

// ---- test side

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// isTest is go test's rule: Test, then nothing or a rune that is not lower case.
func isTest(name string) bool {
	if !strings.HasPrefix(name, "Test") {
		return false
	}
	if len(name) == 4 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(name[4:])
	return !unicode.IsLower(r)
}

// isTestFunc: func TestXxx(t *testing.T), as go test recognises it (the
// generated testmain's compile checks the exact type).
func isTestFunc(fd *ast.FuncDecl) bool {
	if fd.Recv != nil || !isTest(fd.Name.Name) || fd.Name.Name == "TestMain" {
		return false
	}
	ft := fd.Type
	if ft.Results != nil && len(ft.Results.List) > 0 || ft.Params == nil || len(ft.Params.List) != 1 || len(ft.Params.List[0].Names) > 1 {
		return false
	}
	ptr, ok := ft.Params.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	if id, ok := ptr.X.(*ast.Ident); ok && id.Name == "T" {
		return true
	}
	if sel, ok := ptr.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "T" {
		return true
	}
	return false
}

// stubType is the Go text of one parsed, accepted type: reflect's own
// spelling (which is valid Go for every type of the grammar).
func stubType(text string, variadic bool) (string, error) {
	if variadic {
		t, err := wire.ParseType(strings.TrimPrefix(text, "..."))
		if err != nil {
			return "", err
		}
		return "..." + t.String(), nil
	}
	t, err := wire.ParseType(text)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

func test(testPath, reportPath, digestPath, stubsPath, mainPath string) {
	digest := strings.TrimSpace(string(readSource(digestPath)))
	if !hexDigest.MatchString(digest) {
		fail(1, "rlce: bad test digest")
	}
	src := fixImports(testPath, asMainPackage(testPath, readSource(testPath), false))
	write(testPath, src)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, testPath, src, 0)
	if err != nil {
		fail(1, "%v", err)
	}
	var tests []string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			if fd.Recv == nil && fd.Name.Name == "TestMain" {
				fail(1, "rlce: the test may not define TestMain (the harness runs the tests)")
			}
			if isTestFunc(fd) {
				tests = append(tests, fd.Name.Name)
			}
		}
	}
	if len(tests) == 0 {
		fail(exitNoTest, "rlce: the test defines no test (func TestXxx(t *testing.T))")
	}
	// The names the test uses without declaring them: what the program must
	// provide. A name used only as a selector's base (assert in assert.New)
	// is an imported package, never a function: a stub of that name would
	// clash with the import.
	bases := map[*ast.Ident]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				bases[id] = true
			}
		}
		return true
	})
	used := map[string]bool{}
	for _, id := range f.Unresolved {
		if !bases[id] {
			used[id.Name] = true
		}
	}

	rep := readReport(reportPath)
	var b bytes.Buffer
	b.WriteString("// Code generated by rlce-go: the program's functions, called over the value channel.\n\npackage main\n")
	stubs := 0
	seen := map[string]bool{}
	for _, fn := range rep.Funcs {
		if !token.IsIdentifier(fn.Name) || fn.Name == "_" || fn.Name == "init" || fn.Name == "main" || seen[fn.Name] {
			fail(1, "rlce: bad report: function name %q", fn.Name)
		}
		seen[fn.Name] = true
		if !used[fn.Name] {
			continue
		}
		unsupported := func(what string) {
			fail(exitUnsupported, "rlce: unsupported: function %s: type %s", fn.Name, what)
		}
		if fn.Generic {
			unsupported("parameters (generic function)")
		}
		var params, results, argRefs, resRefs []string
		for i, p := range fn.Params {
			st, err := stubType(p, strings.HasPrefix(p, "...") && i == len(fn.Params)-1)
			if err != nil {
				unsupported(strconv.Quote(p))
			}
			params = append(params, fmt.Sprintf("p%d %s", i, st))
			argRefs = append(argRefs, fmt.Sprintf("&p%d", i))
		}
		for i, r := range fn.Results {
			st, err := stubType(r, false)
			if err != nil {
				unsupported(strconv.Quote(r))
			}
			results = append(results, fmt.Sprintf("r%d %s", i, st))
			resRefs = append(resRefs, fmt.Sprintf("&r%d", i))
		}
		if stubs++; stubs == 1 {
			b.WriteString("\nimport rlceharness \"rlce/harness\"\n")
		}
		fmt.Fprintf(&b, "\nfunc %s(%s) (%s) {\n\trlceharness.Call(%q, []interface{}{%s}, []interface{}{%s})\n\treturn\n}\n",
			fn.Name, strings.Join(params, ", "), strings.Join(results, ", "), fn.Name,
			strings.Join(argRefs, ", "), strings.Join(resRefs, ", "))
	}
	write(stubsPath, b.Bytes())

	b.Reset()
	b.WriteString("// Code generated by rlce-go: the test process's main.\n\npackage main\n\nimport rlceharness \"rlce/harness\"\n\nfunc main() {\n\trlceharness.Main(rlceharness.Tests{\n")
	for _, t := range tests {
		fmt.Fprintf(&b, "\t\t{Name: %q, F: %s},\n", t, t)
	}
	fmt.Fprintf(&b, "\t}, %q)\n}\n", digest)
	write(mainPath, b.Bytes())
}

func readReport(path string) Report {
	data := readSource(path)
	if len(data) > 64<<10 {
		fail(1, "rlce: bad report: too large")
	}
	var rep Report
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil || rep.Version != 1 || dec.More() {
		fail(1, "rlce: bad report")
	}
	return rep
}
