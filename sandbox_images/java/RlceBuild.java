// rlce's build steps for split Java assertion tests (docs/SPLIT_TESTS.md).
//
//   RlceBuild program SRC OUT REPORT        (candidate uid)
//     compiles the program (javac in this JVM, -proc:none: no annotation
//     processor or plugin runs, so no program code runs) and writes REPORT:
//     the signatures of the non-private methods and constructors of its
//     classes Solution and Problem, as javac's model types them (the same
//     generic types the class files' Signature attributes carry, which the
//     program-side server reads back by reflection).
//
//   RlceBuild test REPORT TEST DIGEST OUT   (judge uid)
//     treats REPORT as untrusted: only identifiers and types of the wire's
//     closed grammar become code. Generates a stub class per reported class
//     whose bodies call RlceHarness (which carries the call to the program's
//     process) and compiles it with the test's Main.java and the wire library
//     ONLY -- the program's classes are never on this class path, so nothing
//     of the program can shadow a class the test uses.
//     Exit 113 if the compile fails on a function whose signature the wire
//     cannot carry, 114 if the test has no Main.main, 1 on other errors.
//
// Both run javac in-process: one JVM per build step, started from a class-data
// sharing archive made at image build, or one resident JVM that serves them one
// after another ("RlceBuild serve", the runner's build server).
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.IdentifierTree;
import com.sun.source.tree.MemberReferenceTree;
import com.sun.source.tree.MemberSelectTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.tree.NewClassTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.JavacTask;
import com.sun.source.util.TaskEvent;
import com.sun.source.util.TaskListener;
import com.sun.source.util.TreeScanner;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.NestingKind;
import javax.lang.model.element.TypeElement;
import javax.lang.model.element.VariableElement;
import javax.lang.model.type.DeclaredType;
import javax.lang.model.type.TypeKind;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.Types;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

public final class RlceBuild {
    private RlceBuild() {}

    static final String HEADER = "rlce-java-report 1";
    static final List<String> CLASSES = List.of("Solution", "Problem");
    static final String LIBS = System.getProperty("rlce.libs", "/usr/share/java/javatuples.jar");
    static final String WIRE = System.getProperty("rlce.wire", "/opt/rlce/java/rlce-wire.jar");
    static final int MAX_REPORT = 64 * 1024, MAX_MEMBERS = 2000;
    /** A served build's javac runs on a thread of its own with this stack (a fresh JVM's main thread has 1 MiB). */
    static final long SERVED_STACK = 16L << 20;
    /** What a served build's output keeps (its end): the runner keeps less than this. */
    static final int SERVED_OUTPUT = 64 * 1024;
    /** javac ended abnormally (an Error inside it) in this JVM: a build server ends after answering. */
    static volatile boolean abnormal;

    public static void main(String[] args) throws Exception {
        int code = args.length == 1 && args[0].equals("serve") ? serve() : run(args);
        System.out.flush();
        System.err.flush();
        System.exit(code);
    }

    static int run(String[] args) throws Exception {
        if (args.length == 4 && args[0].equals("program")) {
            return program(args[1], args[2], args[3]);
        } else if (args.length == 5 && args[0].equals("test")) {
            return test(args[1], args[2], args[3], args[4]);
        } else if (args.length == 2 && args[0].equals("warm")) {
            return warm(args[1]); // image build: one run of each mode, for the class-data sharing archive
        }
        System.err.println("usage: RlceBuild program SRC OUT REPORT | test REPORT TEST DIGEST OUT | serve");
        return 2;
    }

    // ------------------------------------------------------------------ resident build server

    /**
     * The build server (docs/RUNTIMES.md, "Build servers"): the same two modes, one build after another
     * in this warm JVM, so a build costs a warm javac's ~50 ms instead of a JVM start and a cold
     * javac's ~400 ms. The runner sends a request on stdin, [count][dir][step argv...] (each an int32
     * length and UTF-8 bytes), and reads [exit code][ending][length][what the step printed] on stdout (ending: 1 if this server
     * must not serve again).
     * Each build gets a fresh javac task and file manager; what a step prints is captured per build
     * (its last 64 KiB, paths shown relative to its directory, as a step run in that directory prints
     * them), on a fresh thread with a 16 MiB stack (so that how deep an expression javac can take never
     * depends on what ran before). An Error, in javac (which catches its own: its result says so) or
     * outside it, answers that build as failed and ends the server: the runner starts a fresh one.
     */
    static int serve() throws IOException {
        // stdout carries answers only: the server's JVM logs to stderr (-Xlog, -XX:+DisplayVMOutputToStderr)
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(
                new java.io.FileInputStream(java.io.FileDescriptor.in)));
        java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
                new java.io.FileOutputStream(java.io.FileDescriptor.out)));
        while (true) {
            String[] req;
            try {
                int n = in.readInt();
                if (n < 2 || n > 64) {
                    return 2;
                }
                req = new String[n];
                for (int i = 0; i < n; i++) {
                    int len = in.readInt();
                    if (len < 0 || len > 65536) {
                        return 2;
                    }
                    byte[] b = new byte[len];
                    in.readFully(b);
                    req[i] = new String(b, StandardCharsets.UTF_8);
                }
            } catch (java.io.EOFException e) {
                return 0;
            }
            String dir = req[0];
            int at = List.of(req).subList(1, req.length).indexOf("RlceBuild") + 1;
            Tail text = new Tail(SERVED_OUTPUT);
            java.io.PrintStream capture = new java.io.PrintStream(text, true, StandardCharsets.UTF_8);
            System.setOut(capture);
            System.setErr(capture);
            int[] code = {1};
            boolean[] fatal = {false};
            Runnable build = () -> {
                try {
                    if (at <= 0 || at + 1 >= req.length) {
                        capture.println("rlce: a build server step must run RlceBuild with a mode");
                        code[0] = 2;
                    } else {
                        String[] args = new String[req.length - at - 1];
                        args[0] = req[at + 1];
                        for (int i = 1; i < args.length; i++) {
                            args[i] = Path.of(dir).resolve(req[at + 1 + i]).toString();
                        }
                        code[0] = args[0].equals("warm") ? 2 : run(args);
                    }
                } catch (Error e) {
                    capture.println("Exception in thread \"main\" " + e);
                    code[0] = 1;
                    fatal[0] = true;
                } catch (Throwable e) {
                    capture.println("Exception in thread \"main\" " + e);
                    code[0] = 1;
                }
            };
            // a fresh thread per build: javac's stack depth never depends on earlier builds' frames
            Thread thread = new Thread(null, build, "build", SERVED_STACK);
            thread.start();
            try {
                thread.join();
            } catch (InterruptedException e) {
                return 3;
            }
            capture.flush();
            byte[] said = text.text().replace(dir + "/", "").getBytes(StandardCharsets.UTF_8);
            boolean ending = fatal[0] || abnormal; // after an Error this JVM is not to be trusted
            out.writeInt(code[0]);
            out.writeInt(ending ? 1 : 0); // the runner ends this server now and starts a fresh one
            out.writeInt(said.length);
            out.write(said);
            out.flush();
            if (ending) {
                return 3;
            }
        }
    }

    /** The last `cap` bytes written to it (a build's output may be megabytes: javac echoes each error's line). */
    static final class Tail extends java.io.OutputStream {
        private final byte[] ring;
        private long written;

        Tail(int cap) {
            ring = new byte[cap];
        }

        @Override
        public synchronized void write(int b) {
            ring[(int) (written++ % ring.length)] = (byte) b;
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            for (int i = 0; i < len; i++) {
                ring[(int) (written++ % ring.length)] = b[off + i];
            }
        }

        synchronized String text() {
            int n = (int) Math.min(written, ring.length);
            byte[] last = new byte[n];
            for (int i = 0; i < n; i++) {
                last[i] = ring[(int) ((written - n + i) % ring.length)];
            }
            return new String(last, StandardCharsets.UTF_8);
        }
    }

    /** javac in this JVM: no annotation processing (so no code of the program runs), diagnostics on stderr. */
    static boolean compile(List<String> options, List<String> files, java.util.function.Function<JavacTask, TaskListener> listener)
            throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(null, Locale.getDefault(), StandardCharsets.UTF_8)) {
            List<String> all = new ArrayList<>(List.of("-proc:none", "-encoding", "UTF-8", "-nowarn", "-Xlint:none",
                    "-implicit:none", "-Xmaxerrs", "50"));
            all.addAll(options);
            JavacTask task = (JavacTask) javac.getTask(null, fm, null, all, null, fm.getJavaFileObjectsFromStrings(files));
            task.addTaskListener(listener.apply(task));
            // javac catches an Error of its own (out of memory, a stack overflow) and answers false as for a
            // compile error: its result tells them apart, and a build server must not serve on after one
            com.sun.tools.javac.main.Main.Result result = ((com.sun.tools.javac.api.JavacTaskImpl) task).doCall();
            if (result == com.sun.tools.javac.main.Main.Result.ABNORMAL || result == com.sun.tools.javac.main.Main.Result.SYSERR) {
                abnormal = true;
            }
            return result.isOK();
        }
    }

    // ------------------------------------------------------------------ program side

    static int program(String src, String out, String report) throws IOException {
        new File(out).mkdirs();
        StringBuilder lines = new StringBuilder(HEADER).append('\n');
        Set<String> seen = new HashSet<>();
        boolean ok = compile(List.of("-d", out, "-cp", LIBS), List.of(src), task -> new TaskListener() {
            final Types types = task.getTypes();

            @Override
            public void finished(TaskEvent e) {
                TypeElement te = e.getTypeElement();
                if (e.getKind() == TaskEvent.Kind.ANALYZE && te != null && te.getKind() == ElementKind.CLASS
                        && te.getNestingKind() == NestingKind.TOP_LEVEL
                        && CLASSES.contains(te.getQualifiedName().toString()) && seen.add(te.getQualifiedName().toString())) {
                    describe(te, types, lines);
                }
            }
        });
        if (!ok) {
            return 1;
        }
        lines.append("end\n");
        byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
        int count = 0;
        for (int i = 0; i < lines.length(); i++) {
            count += lines.charAt(i) == '\n' ? 1 : 0;
        }
        if (bytes.length > MAX_REPORT || count > MAX_MEMBERS + 3) {
            System.err.println("rlce: classes Solution/Problem have too many members to report (" + bytes.length + " bytes)");
            return 1;
        }
        Files.write(Path.of(report), bytes);
        return 0;
    }

    /** The report lines of one class: its constructors and the non-private methods it has or inherits from program classes. */
    static void describe(TypeElement te, Types types, StringBuilder lines) {
        lines.append("class\t").append(te.getQualifiedName()).append('\n');
        boolean concrete = !te.getModifiers().contains(Modifier.ABSTRACT);
        Set<String> overridden = new HashSet<>();
        for (TypeElement k = te; k != null; k = superclass(k, types)) {
            for (Element member : k.getEnclosedElements()) {
                if (!(member instanceof ExecutableElement) || member.getModifiers().contains(Modifier.PRIVATE)) {
                    continue;
                }
                ExecutableElement m = (ExecutableElement) member;
                StringBuilder params = new StringBuilder();
                StringBuilder erased = new StringBuilder(m.getSimpleName()).append('(');
                for (VariableElement p : m.getParameters()) {
                    params.append('\t').append(typeText(p.asType()));
                    erased.append(types.erasure(p.asType())).append(',');
                }
                if (m.getKind() == ElementKind.CONSTRUCTOR) {
                    if (k == te && concrete) {
                        lines.append("new\t").append(m.isVarArgs() ? 1 : 0).append(params).append('\n');
                        thrown(m, lines);
                    }
                    continue;
                }
                if (m.getKind() != ElementKind.METHOD || m.getModifiers().contains(Modifier.ABSTRACT)
                        || !overridden.add(erased.toString()) || objectMethod(erased.toString())) {
                    continue;
                }
                String ret = typeText(m.getReturnType());
                if (!m.getTypeParameters().isEmpty()) {
                    ret = "?generic method " + ret; // not in the wire's grammar
                }
                lines.append("method\t").append(m.getModifiers().contains(Modifier.STATIC) ? "static" : "instance")
                        .append('\t').append(m.getSimpleName()).append('\t').append(m.isVarArgs() ? 1 : 0)
                        .append('\t').append(ret).append(params).append('\n');
                thrown(m, lines);
            }
        }
    }

    /** The checked exceptions a member declares (a test may catch them by name). */
    static void thrown(ExecutableElement m, StringBuilder lines) {
        if (!m.getThrownTypes().isEmpty()) {
            lines.append("throws");
            for (TypeMirror t : m.getThrownTypes()) {
                lines.append('\t').append(typeText(t));
            }
            lines.append('\n');
        }
    }

    /** equals/hashCode/toString/clone/finalize of Object: the stub keeps Object's own. */
    static boolean objectMethod(String erased) {
        return erased.equals("equals(java.lang.Object,") || erased.equals("hashCode(") || erased.equals("toString(")
                || erased.equals("clone(") || erased.equals("finalize(");
    }

    /** A program superclass (same unnamed package), or null at the first library class. */
    static TypeElement superclass(TypeElement te, Types types) {
        TypeMirror sup = te.getSuperclass();
        if (sup.getKind() != TypeKind.DECLARED) {
            return null;
        }
        TypeElement s = (TypeElement) ((DeclaredType) sup).asElement();
        return s.getQualifiedName().toString().contains(".") || s.getQualifiedName().toString().equals("Object") ? null : s;
    }

    /** A type's text built from its structure: qualified names, type arguments, [] -- never its
     *  annotations (whose values are program text); what the grammar lacks reads as "?..." and is refused. */
    static String typeText(TypeMirror t) {
        switch (t.getKind()) {
            case BOOLEAN: case BYTE: case SHORT: case INT: case LONG: case CHAR: case FLOAT: case DOUBLE: case VOID:
                return t.getKind().name().toLowerCase(Locale.ROOT);
            case ARRAY:
                return typeText(((javax.lang.model.type.ArrayType) t).getComponentType()) + "[]";
            case DECLARED: {
                DeclaredType d = (DeclaredType) t;
                StringBuilder sb = new StringBuilder(((TypeElement) d.asElement()).getQualifiedName());
                if (!d.getTypeArguments().isEmpty()) {
                    sb.append('<');
                    for (int i = 0; i < d.getTypeArguments().size(); i++) {
                        sb.append(i > 0 ? "," : "").append(typeText(d.getTypeArguments().get(i)));
                    }
                    sb.append('>');
                }
                return sb.toString();
            }
            case TYPEVAR:
                return "?typevar " + ((javax.lang.model.type.TypeVariable) t).asElement().getSimpleName();
            default:
                return "?" + t.getKind().name().toLowerCase(Locale.ROOT);
        }
    }

    // ------------------------------------------------------------------ test side

    /** One reported function, checked: its wire types, or why the wire cannot carry it. */
    static final class Fn {
        String cls, name; // name null: a constructor
        boolean isStatic, varargs;
        RlceWire.T ret;
        RlceWire.T[] params;
        String refused; // the type (sanitized) the wire cannot carry
        List<String> thrown = new ArrayList<>(); // JDK exception classes it declares

        String id() {
            return (name == null ? cls : cls + "." + name) + RlceWire.descriptor(params);
        }
    }

    static int test(String report, String test, String digestFile, String out) throws IOException {
        byte[] digest = Files.readAllBytes(Path.of(digestFile));
        if (!new String(digest, StandardCharsets.ISO_8859_1).matches("[0-9a-f]{64}")) {
            System.err.println("rlce: the test digest is not 64 lowercase hex characters");
            return 1;
        }
        Map<String, List<Fn>> classes;
        try {
            classes = readReport(Path.of(report));
        } catch (IllegalArgumentException e) {
            System.err.println("rlce: the program build's report is malformed: " + e.getMessage());
            return 1;
        }
        Path gen = Path.of(out).resolveSibling("rlce-stubs");
        Files.createDirectories(gen);
        Files.createDirectories(Path.of(out));
        Files.write(Path.of(out, "RLCE-DIGEST"), digest);
        List<String> files = new ArrayList<>(List.of(test));
        Set<String> refused = new LinkedHashSet<>();
        Map<String, String> refusedType = new LinkedHashMap<>();
        for (Map.Entry<String, List<Fn>> c : classes.entrySet()) {
            Path stub = gen.resolve(c.getKey() + ".java");
            Files.write(stub, stub(c.getKey(), c.getValue()).getBytes(StandardCharsets.UTF_8));
            files.add(stub.toString());
            for (Fn f : c.getValue()) {
                if (f.refused != null) {
                    String who = f.name == null ? f.cls : f.name;
                    refused.add(who);
                    refusedType.putIfAbsent(who, f.refused);
                }
            }
        }
        // read the test's tree as soon as it is parsed (javac lowers it in place later)
        boolean[] parsed = {false, false}; // parsed, has Main.main
        String[] used = {null};
        String testName = new File(test).getName();
        boolean ok = compile(List.of("-d", out, "-cp", WIRE + File.pathSeparator + LIBS), files, task -> new TaskListener() {
            @Override
            public void finished(TaskEvent e) {
                if (e.getKind() == TaskEvent.Kind.PARSE && !parsed[0]
                        && e.getCompilationUnit().getSourceFile().getName().endsWith(testName)) {
                    parsed[0] = true;
                    parsed[1] = hasMain(e.getCompilationUnit());
                    used[0] = refused.isEmpty() ? null : usedName(e.getCompilationUnit(), refused);
                }
            }
        });
        if (!ok) {
            if (used[0] != null) {
                System.err.println("rlce: unsupported: function " + used[0] + ": type " + refusedType.get(used[0]));
                return 113;
            }
            return 1;
        }
        if (!parsed[1] || !Files.exists(Path.of(out, "Main.class"))) {
            System.err.println("rlce: the test defines no test (no class Main with a method main)");
            return 114;
        }
        return 0;
    }

    /** The first name among `names` the test calls, references or instantiates. */
    static String usedName(CompilationUnitTree unit, Set<String> names) {
        String[] found = new String[1];
        new TreeScanner<Void, Void>() {
            void check(String name) {
                if (found[0] == null && names.contains(name)) {
                    found[0] = name;
                }
            }

            @Override
            public Void visitMethodInvocation(MethodInvocationTree node, Void v) {
                Tree sel = node.getMethodSelect();
                if (sel instanceof IdentifierTree) {
                    check(((IdentifierTree) sel).getName().toString());
                } else if (sel instanceof MemberSelectTree) {
                    check(((MemberSelectTree) sel).getIdentifier().toString());
                }
                return super.visitMethodInvocation(node, v);
            }

            @Override
            public Void visitMemberReference(MemberReferenceTree node, Void v) {
                check(node.getName().toString());
                return super.visitMemberReference(node, v);
            }

            @Override
            public Void visitNewClass(NewClassTree node, Void v) {
                check(node.getIdentifier().toString());
                return super.visitNewClass(node, v);
            }
        }.scan(unit, null);
        return found[0];
    }

    static boolean hasMain(CompilationUnitTree unit) {
        for (Tree t : unit.getTypeDecls()) {
            if (t instanceof com.sun.source.tree.ClassTree && ((com.sun.source.tree.ClassTree) t).getSimpleName().contentEquals("Main")) {
                for (Tree m : ((com.sun.source.tree.ClassTree) t).getMembers()) {
                    if (m instanceof com.sun.source.tree.MethodTree
                            && ((com.sun.source.tree.MethodTree) m).getName().contentEquals("main")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Parses the untrusted report strictly; a line off the grammar fails the build (fail closed). */
    static Map<String, List<Fn>> readReport(Path path) throws IOException {
        byte[] raw = Files.readAllBytes(path);
        if (raw.length > MAX_REPORT) {
            throw new IllegalArgumentException("larger than 64 KiB");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not UTF-8");
        }
        String[] lines = text.split("\n", -1);
        if (lines.length < 3 || !lines[0].equals(HEADER) || !lines[lines.length - 2].equals("end")
                || !lines[lines.length - 1].isEmpty() || lines.length > MAX_MEMBERS + 3) {
            throw new IllegalArgumentException("bad header or end");
        }
        Map<String, List<Fn>> classes = new LinkedHashMap<>();
        Set<String> ids = new HashSet<>();
        String cls = null;
        Fn last = null;
        for (int i = 1; i < lines.length - 2; i++) {
            String[] f = lines[i].split("\t", -1);
            if (f[0].equals("throws") && f.length >= 2 && f.length <= 21) {
                if (last == null) {
                    throw new IllegalArgumentException("line " + (i + 1) + ": throws of nothing");
                }
                for (int k = 1; k < f.length; k++) {
                    if (f[k].matches("javax?(\\.[A-Za-z_$][A-Za-z0-9_$]{0,100}){1,10}")) {
                        last.thrown.add(f[k]); // others (the program's own classes) do not exist on the test's side
                    }
                }
                last = null;
                continue;
            }
            last = null;
            if (f[0].equals("class") && f.length == 2) {
                cls = f[1];
                if (!CLASSES.contains(cls) || classes.containsKey(cls)) {
                    throw new IllegalArgumentException("line " + (i + 1) + ": class");
                }
                classes.put(cls, new ArrayList<>());
                continue;
            }
            if (cls == null) {
                throw new IllegalArgumentException("line " + (i + 1) + ": member before its class");
            }
            Fn fn = new Fn();
            fn.cls = cls;
            int first;
            if (f[0].equals("new") && f.length >= 2) {
                fn.varargs = flag(f[1], i);
                fn.ret = null;
                first = 2;
            } else if (f[0].equals("method") && f.length >= 5) {
                if (!f[1].equals("static") && !f[1].equals("instance")) {
                    throw new IllegalArgumentException("line " + (i + 1) + ": static or instance");
                }
                fn.isStatic = f[1].equals("static");
                fn.name = f[2];
                if (!identifier(fn.name)) {
                    throw new IllegalArgumentException("line " + (i + 1) + ": not an identifier");
                }
                fn.varargs = flag(f[3], i);
                fn.ret = type(f[4], true, fn);
                first = 5;
            } else {
                throw new IllegalArgumentException("line " + (i + 1) + ": unknown");
            }
            fn.params = new RlceWire.T[f.length - first];
            for (int p = first; p < f.length; p++) {
                fn.params[p - first] = type(f[p], false, fn);
            }
            if (fn.varargs && (fn.params.length == 0
                    || (fn.params[fn.params.length - 1] != null && fn.params[fn.params.length - 1].k != RlceWire.K.ARRAY))) {
                throw new IllegalArgumentException("line " + (i + 1) + ": varargs without an array");
            }
            if (fn.refused == null && !ids.add(fn.id())) {
                throw new IllegalArgumentException("line " + (i + 1) + ": repeated function");
            }
            last = fn;
            if (fn.refused == null && fn.name != null && overridesObject(fn)) {
                continue;
            }
            classes.get(cls).add(fn);
        }
        return classes;
    }

    /** The stub keeps Object's own equals/hashCode/toString/clone/finalize (never sent to the program). */
    private static boolean overridesObject(Fn fn) {
        if (fn.params.length == 1) {
            return fn.name.equals("equals") && fn.params[0].k == RlceWire.K.OBJECT;
        }
        return fn.params.length == 0 && List.of("hashCode", "toString", "clone", "finalize").contains(fn.name);
    }

    private static boolean flag(String s, int line) {
        if (!s.equals("0") && !s.equals("1")) {
            throw new IllegalArgumentException("line " + (line + 1) + ": flag");
        }
        return s.equals("1");
    }

    /** A Java identifier (no keyword, no ignorable character). The stub's own members are the
     *  fields rlce$t and rlce$h: methods of any name cannot clash with them. */
    static boolean identifier(String s) {
        if (s.isEmpty() || s.length() > 200 || !SourceVersion.isIdentifier(s) || SourceVersion.isKeyword(s)
                || s.equals("_")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (Character.isIdentifierIgnorable(s.charAt(i)) || Character.isSurrogate(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** A reported type, or null (and fn.refused set) when the wire cannot carry it. */
    static RlceWire.T type(String text, boolean ret, Fn fn) {
        try {
            return RlceWire.parse(text, ret);
        } catch (RlceWire.Unsupported e) {
            if (fn.refused == null) {
                String shown = text.replaceAll("[^A-Za-z0-9_.<>,?\\[\\] $]", "?");
                fn.refused = shown.length() > 200 ? shown.substring(0, 200) + "..." : shown;
            }
            return null;
        }
    }

    /** The stub class: same name and (supported) signatures, bodies that call the program's process. */
    static String stub(String cls, List<Fn> fns) {
        StringBuilder sb = new StringBuilder();
        sb.append("// generated by rlce (RlceBuild) from the program's signatures: every call goes to the program's process\n");
        sb.append("@SuppressWarnings({\"unchecked\", \"rawtypes\"})\n");
        sb.append("class ").append(cls).append(" {\n");
        List<String> typeTexts = new ArrayList<>();
        Map<String, Integer> typeIndex = new LinkedHashMap<>();
        StringBuilder members = new StringBuilder();
        boolean anyCtor = false;
        for (Fn fn : fns) {
            if (fn.refused != null) {
                continue;
            }
            StringBuilder decl = new StringBuilder();
            StringBuilder params = new StringBuilder();
            StringBuilder types = new StringBuilder("new RlceWire.T[] {");
            StringBuilder values = new StringBuilder("new Object[] {");
            for (int i = 0; i < fn.params.length; i++) {
                String src = fn.params[i].source();
                if (fn.varargs && i == fn.params.length - 1) {
                    src = src.substring(0, src.length() - 2) + "...";
                }
                params.append(i > 0 ? ", " : "").append(src).append(" a").append(i);
                types.append(i > 0 ? ", " : "").append("rlce$t[").append(index(fn.params[i], typeTexts, typeIndex)).append(']');
                values.append(i > 0 ? ", " : "").append('a').append(i);
            }
            types.append('}');
            values.append('}');
            String throwsClause = fn.thrown.isEmpty() ? "" : " throws " + String.join(", ", fn.thrown);
            if (fn.name == null) {
                anyCtor = true;
                decl.append("    public ").append(cls).append('(').append(params).append(')').append(throwsClause).append(" {\n")
                        .append("        this.rlce$h = RlceHarness.create(\"").append(fn.id()).append("\", ")
                        .append(types).append(", ").append(values).append(");\n    }\n");
            } else {
                String ret = fn.ret.source();
                decl.append("    public ").append(fn.isStatic ? "static " : "").append(ret).append(' ').append(fn.name)
                        .append('(').append(params).append(')').append(throwsClause).append(" {\n        ");
                String call = "RlceHarness.call(" + (fn.isStatic ? "0L" : "this.rlce$h") + ", \"" + fn.id() + "\", rlce$t["
                        + index(fn.ret, typeTexts, typeIndex) + "], " + types + ", " + values + ")";
                if (fn.ret.k == RlceWire.K.VOID) {
                    decl.append(call).append(";\n    }\n");
                } else {
                    decl.append("return (").append(fn.ret.primitive() ? boxed(fn.ret) : ret).append(") ").append(call)
                            .append(";\n    }\n");
                }
            }
            members.append(decl);
        }
        sb.append("    private static final RlceWire.T[] rlce$t = RlceHarness.types(");
        for (int i = 0; i < typeTexts.size(); i++) {
            sb.append(i > 0 ? ", " : "").append('"').append(typeTexts.get(i)).append('"');
        }
        sb.append(");\n    private final long rlce$h;\n");
        if (!anyCtor) {
            sb.append("    private ").append(cls).append("() {\n        this.rlce$h = 0L;\n    }\n");
        }
        sb.append(members).append("}\n");
        return sb.toString();
    }

    private static int index(RlceWire.T t, List<String> texts, Map<String, Integer> idx) {
        return idx.computeIfAbsent(t.source(), s -> {
            texts.add(s);
            return texts.size() - 1;
        });
    }

    private static String boxed(RlceWire.T t) {
        switch (t.k) {
            case Z: return "Boolean";
            case B: return "Byte";
            case S: return "Short";
            case I: return "Integer";
            case J: return "Long";
            case F: return "Float";
            case D: return "Double";
            default: return "Character";
        }
    }

    // ------------------------------------------------------------------ image build

    /** Both modes once on a sample, so the image's class-data sharing archive holds what they load. */
    static int warm(String dir) throws Exception {
        Path d = Path.of(dir);
        Files.writeString(d.resolve("Solution.java"), "import java.util.*;\nclass Solution {\n"
                + " public List<Integer> f(List<Integer> x, int k, Map<String, Long> m, Optional<Object> o) { return x; }\n}\n");
        Files.writeString(d.resolve("Main.java"), "import java.util.*;\npublic class Main {\n public static void main(String[] a) {\n"
                + "  Solution s = new Solution();\n  if (!s.f(Arrays.asList(1, 2), 3, new HashMap<>(), Optional.empty()).equals(List.of(1, 2))) throw new AssertionError();\n }\n}\n");
        Files.writeString(d.resolve("digest.txt"), "0".repeat(64));
        int a = program(d.resolve("Solution.java").toString(), d.resolve("p/out").toString(), d.resolve("report.txt").toString());
        int b = test(d.resolve("report.txt").toString(), d.resolve("Main.java").toString(), d.resolve("digest.txt").toString(),
                d.resolve("t/out").toString());
        return a == 0 && b == 0 ? 0 : 1;
    }
}
