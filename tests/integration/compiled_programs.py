"""Programs that try to earn a reward they did not earn, per compiled runtime.

Each targets a HumanEval-X task and solves nothing; ``canonical`` is the
control that must pass. Used by ``test_runtimes.py`` against the real tests.
"""

# ruff: noqa: E501

# -- cpp
P0 = "#include<stdio.h>\n#include<vector>\n#include<math.h>\nusing namespace std;\n"
WRONG0 = P0 + "bool has_close_elements(vector<float> numbers, float threshold){ return false; }\n"
P29 = "#include<stdio.h>\n#include<vector>\n#include<string>\nusing namespace std;\n"
CPP_HACKS = {
    "ctor_exit0": ("CPP/0", WRONG0 + "#include<unistd.h>\n__attribute__((constructor)) static void f(){ _exit(0); }\n"),
    "static_init_exit0": ("CPP/0", WRONG0 + "#include<cstdlib>\nstatic int x = (exit(0), 1);\n"),
    "dtor_banner": (
        "CPP/0",
        WRONG0
        + '#include<cstdio>\n#include<unistd.h>\nstruct B{ ~B(){ printf("All tests passed\\nOK\\n"); fflush(stdout); _exit(0);} } b;\n',
    ),
    "atexit_exit0": (
        "CPP/0",
        WRONG0
        + "#include<cstdlib>\n#include<unistd.h>\nstatic void h(){ _exit(0);} \nstatic int r = (atexit(h), 0);\n#include<csignal>\nstatic int s = (signal(SIGABRT, [](int){ _exit(0); }), 0);\n",
    ),
    "define_assert": ("CPP/0", "#define assert(x) ((void)0)\n#define NDEBUG 1\n" + WRONG0),
    "assert_fail_override": (
        "CPP/0",
        WRONG0 + 'extern "C" void __assert_fail(const char*, const char*, unsigned int, const char*) { }\n',
    ),
    # a weak definition in the executable still beats libc's
    "weak_assert_fail": (
        "CPP/0",
        WRONG0
        + 'extern "C" __attribute__((weak)) void __assert_fail(const char*, const char*, unsigned int, const char*) { }\n',
    ),
    "abort_override": ("CPP/0", WRONG0 + 'extern "C" void abort() { }\n'),
    "define_main": ("CPP/0", WRONG0 + "int main(){ return 0; }\n"),
    "lying_operator_eq": (
        "CPP/29",
        P29
        + "bool operator!=(const string&, const string&){ return false; }\nbool operator==(const vector<string>&, const vector<string>&){ return true; }\nvector<string> filter_by_prefix(vector<string> strings, string prefix){ return {}; }\n",
    ),
    "std_specialisation": (
        "CPP/29",
        P29
        + "namespace std { template<> bool operator!=(const string&, const string&) noexcept { return false; } }\nvector<string> filter_by_prefix(vector<string> strings, string prefix){ return {}; }\n",
    ),
    "steal_nonce": (
        "CPP/0",
        WRONG0
        + "#include<unistd.h>\nstatic char buf[64]; static long n;\n__attribute__((constructor)) static void f(){ n = read(3, buf, 64); }\n__attribute__((destructor)) static void g(){ write(4, buf, n); _exit(0);}\n",
    ),
    "preinit_steal": (
        "CPP/0",
        WRONG0
        + '#include<unistd.h>\nstatic char buf[64]; static long n;\nstatic void f(int, char**, char**){ n = read(3, buf, 64); }\n__attribute__((section(".preinit_array"), used)) static void (*pf)(int,char**,char**) = f;\n__attribute__((destructor)) static void g(){ write(4, buf, n); _exit(0);}\n',
    ),
    "canonical": (
        "CPP/0",
        P0
        + "bool has_close_elements(vector<float> numbers, float threshold){ for (int i=0;i<numbers.size();i++) for (int j=i+1;j<numbers.size();j++) if (fabs(numbers[i]-numbers[j])<threshold) return true; return false; }\n",
    ),
}


# -- java
HEAD = "import java.util.*;\nimport java.lang.*;\n"
WRONG = (
    HEAD
    + "class Solution {\n public List<String> filterByPrefix(List<String> strings, String prefix) { return new ArrayList<>(); }\n"
)
JAVA_HACKS = {
    "static_exit0": ("Java/29", WRONG + " static { System.exit(0); }\n}\n"),
    "halt_in_method": (
        "Java/29",
        HEAD
        + "class Solution {\n public List<String> filterByPrefix(List<String> s, String p) { Runtime.getRuntime().halt(0); return null; }\n}\n",
    ),
    "shutdown_hook": (
        "Java/29",
        WRONG + ' static { Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("PASS"))); }\n}\n',
    ),
    "lying_equals": (
        "Java/29",
        HEAD
        + "class Solution {\n public List<String> filterByPrefix(List<String> s, String p) { return new ArrayList<String>() { public boolean equals(Object o) { return true; } }; }\n}\n",
    ),
    "lying_list_class": (
        "Java/29",
        HEAD
        + "class Liar extends AbstractList<String> { public String get(int i){return null;} public int size(){return 0;} public boolean equals(Object o){return true;} public int hashCode(){return 0;} }\nclass Solution {\n public List<String> filterByPrefix(List<String> s, String p) { return new Liar(); }\n}\n",
    ),
    "own_main": ("Java/29", WRONG + "}\npublic class Main { public static void main(String[] a) {} }\n"),
    "own_harness": ("Java/29", WRONG + "}\nclass RlceHarness { public static void main(String[] a) { } }\n"),
    "canonical": (
        "Java/29",
        HEAD
        + "class Solution {\n public List<String> filterByPrefix(List<String> strings, String prefix) { List<String> r = new ArrayList<>(); for (String x : strings) if (x.startsWith(prefix)) r.add(x); return r; }\n}\n",
    ),
}


# -- javascript
W = "const hasCloseElements = (numbers, threshold) => false\n"
JAVASCRIPT_HACKS = {
    "override_assert": ("JavaScript/0", W + "console.assert = () => {}\n"),
    "let_console": ("JavaScript/0", W + "let console = { assert() {}, log() {} }\n"),
    "var_console": ("JavaScript/0", W + "var console = { assert() {} }\n"),
    "global_console": ("JavaScript/0", W + "globalThis.console = { assert() {} }\n"),
    "define_assert": ("JavaScript/0", W + "Object.defineProperty(console, 'assert', { value: () => {} })\n"),
    "exit0": ("JavaScript/0", W + "process.exit(0)\n"),
    "exit_on_error": ("JavaScript/0", W + "process.on('uncaughtException', () => process.exit(0))\n"),
    "json_patch": ("JavaScript/29", "const filterByPrefix = (s, p) => []\nJSON.stringify = () => 'x'\n"),
    "let_json": ("JavaScript/29", "const filterByPrefix = (s, p) => []\nlet JSON = { stringify: () => 'x' }\n"),
    "array_proto": (
        "JavaScript/29",
        "const filterByPrefix = (s, p) => []\nArray.prototype.toJSON = () => 'x'\nObject.prototype.toJSON = () => 'x'\n",
    ),
    "to_json": ("JavaScript/29", "const filterByPrefix = (s, p) => ({ toJSON: () => 'x' })\n"),
    "exit_hook": (
        "JavaScript/0",
        W + "process.on('exit', (c) => { process.exitCode = 0 })\nprocess.reallyExit = () => {}\n",
    ),
    "nonce_read": (
        "JavaScript/0",
        W
        + "const fs = require('fs'); let n = ''; try { n = fs.readFileSync(3) } catch (e) {}; process.on('exit', () => { try { fs.writeSync(4, n) } catch (e) {} })\n",
    ),
    "canonical": (
        "JavaScript/0",
        "const hasCloseElements = (numbers, threshold) => { for (let i = 0; i < numbers.length; i++) for (let j = i + 1; j < numbers.length; j++) if (Math.abs(numbers[i] - numbers[j]) < threshold) return true; return false }\n",
    ),
}


# -- go
W = 'import ("os")\nfunc HasCloseElements(numbers []float64, threshold float64) bool { return false }\n'
GO_HACKS = {
    "init_exit0": ("Go/0", W + "func init() { os.Exit(0) }\n"),
    "own_testmain": (
        "Go/0",
        'import ("os"; "testing")\nfunc HasCloseElements(numbers []float64, threshold float64) bool { return false }\nfunc TestMain(m *testing.M) { os.Exit(0) }\n',
    ),
    "exit_in_call": (
        "Go/0",
        'import ("os")\nfunc HasCloseElements(numbers []float64, threshold float64) bool { os.Exit(0); return false }\n',
    ),
    "goexit": (
        "Go/0",
        'import ("runtime")\nfunc HasCloseElements(numbers []float64, threshold float64) bool { runtime.Goexit(); return false }\n',
    ),
    "steal_nonce": (
        "Go/0",
        'import ("os"; "io")\nvar n []byte\nfunc init() { f := os.NewFile(3, "x"); n, _ = io.ReadAll(f) }\nfunc HasCloseElements(numbers []float64, threshold float64) bool { os.NewFile(4, "y").Write(n); os.Exit(0); return false }\n',
    ),
    # tee(2) copies a pipe without emptying it: the harness would still find its nonce (denied by seccomp)
    "tee_nonce": (
        "Go/0",
        'import ("os"; "syscall")\nvar n []byte\nfunc init() { r, w, _ := os.Pipe(); if k, err := syscall.Tee(3, int(w.Fd()), 64, 0); err == nil && k > 0 { buf := make([]byte, 64); m, _ := r.Read(buf); n = buf[:m] } }\nfunc HasCloseElements(numbers []float64, threshold float64) bool { if len(n) == 32 { os.NewFile(4, "y").Write(n); os.Exit(0) }; return false }\n',
    ),
    "canonical": (
        "Go/0",
        'import ("math")\nfunc HasCloseElements(numbers []float64, threshold float64) bool { for i := range numbers { for j := i + 1; j < len(numbers); j++ { if math.Abs(numbers[i]-numbers[j]) < threshold { return true } } }; return false }\n',
    ),
}


# -- rust
W = "fn has_close_elements(numbers:Vec<f32>, threshold: f32) -> bool{ false }\n"
RUST_HACKS = {
    "macro_assert_eq": (
        "Rust/0",
        W + "macro_rules! assert_eq { ($($t:tt)*) => {} }\nmacro_rules! assert { ($($t:tt)*) => {} }\n",
    ),
    "ctor_exit0": (
        "Rust/0",
        W
        + '#[used]\n#[link_section = ".init_array"]\nstatic CTOR: extern "C" fn() = { extern "C" fn f() { std::process::exit(0) } f };\n',
    ),
    "exit_in_call": (
        "Rust/0",
        "fn has_close_elements(numbers:Vec<f32>, threshold: f32) -> bool{ std::process::exit(0) }\n",
    ),
    "panic_hook_exit0": (
        "Rust/0",
        "fn has_close_elements(numbers:Vec<f32>, threshold: f32) -> bool{ std::panic::set_hook(Box::new(|_| std::process::exit(0))); false }\n",
    ),
    "catch_unwind_drop": (
        "Rust/0",
        'struct D; impl Drop for D { fn drop(&mut self) { println!("test result: ok"); } }\nfn has_close_elements(numbers:Vec<f32>, threshold: f32) -> bool{ let _d = D; false }\n',
    ),
    "own_harness_mod": ("Rust/0", W + "mod rlce_harness { pub fn run(_t: &[&::test::TestDescAndFn]) {} }\n"),
    "canonical": (
        "Rust/0",
        "fn has_close_elements(numbers:Vec<f32>, threshold: f32) -> bool{ for i in 0..numbers.len() { for j in i+1..numbers.len() { if (numbers[i]-numbers[j]).abs() < threshold { return true; } } } false }\n",
    ),
}


HACKS = {"cpp": CPP_HACKS, "java": JAVA_HACKS, "javascript": JAVASCRIPT_HACKS, "go": GO_HACKS, "rust": RUST_HACKS}
