// rlce's value channel for split Java assertion tests (docs/SPLIT_TESTS.md, wire version 1).
//
// Shared by both processes: the test's stub class Solution (judge uid) encodes
// arguments and decodes replies here, and RlceProgramServer (candidate uid)
// does the reverse. Everything is directed by a declared type T from a closed
// grammar (primitives, boxed types, String, Object, List/ArrayList/LinkedList,
// Map/HashMap/LinkedHashMap/TreeMap, Set/HashSet/LinkedHashSet/TreeSet,
// Optional, org.javatuples.Pair, arrays, nested): only JDK (and javatuples)
// classes are ever built from a frame, so no class of the program reaches the
// test, and a frame that does not fit the declared type is refused.
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.File;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

public final class RlceWire {
    private RlceWire() {}

    public static final int MAX_FRAME = 16 << 20;
    public static final int MAX_DEPTH = 100;

    /** A malformed frame or value, or a value of the wrong type (the test exits 112 on it). */
    public static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** A value or type the wire cannot carry (the test exits 113 on it; the program replies "raised"). */
    public static final class Unsupported extends Exception {
        private static final long serialVersionUID = 1L;

        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    // ---------------------------------------------------------------- types

    public enum K {
        VOID, Z, B, S, I, J, F, D, C,
        BOOLEAN, BYTE, SHORT, INTEGER, LONG, FLOAT, DOUBLE, CHARACTER, STRING, OBJECT,
        LIST, ARRAYLIST, LINKEDLIST, MAP, HASHMAP, LINKEDHASHMAP, TREEMAP,
        SET, HASHSET, LINKEDHASHSET, TREESET, OPTIONAL, PAIR, ARRAY
    }

    /** Java source name, arity (type arguments), erasure; in K's order up to ARRAY. */
    private static final Object[][] NAMES = {
        {"void", 0, void.class}, {"boolean", 0, boolean.class}, {"byte", 0, byte.class}, {"short", 0, short.class},
        {"int", 0, int.class}, {"long", 0, long.class}, {"float", 0, float.class}, {"double", 0, double.class},
        {"char", 0, char.class},
        {"java.lang.Boolean", 0, Boolean.class}, {"java.lang.Byte", 0, Byte.class}, {"java.lang.Short", 0, Short.class},
        {"java.lang.Integer", 0, Integer.class}, {"java.lang.Long", 0, Long.class}, {"java.lang.Float", 0, Float.class},
        {"java.lang.Double", 0, Double.class}, {"java.lang.Character", 0, Character.class},
        {"java.lang.String", 0, String.class}, {"java.lang.Object", 0, Object.class},
        {"java.util.List", 1, List.class}, {"java.util.ArrayList", 1, ArrayList.class},
        {"java.util.LinkedList", 1, LinkedList.class}, {"java.util.Map", 2, Map.class},
        {"java.util.HashMap", 2, HashMap.class}, {"java.util.LinkedHashMap", 2, LinkedHashMap.class},
        {"java.util.TreeMap", 2, TreeMap.class}, {"java.util.Set", 1, Set.class}, {"java.util.HashSet", 1, HashSet.class},
        {"java.util.LinkedHashSet", 1, LinkedHashSet.class}, {"java.util.TreeSet", 1, TreeSet.class},
        {"java.util.Optional", 1, Optional.class}, {"org.javatuples.Pair", 2, null},
    };
    private static final Map<String, K> BY_NAME = new HashMap<>();
    private static final Map<Class<?>, K> BY_CLASS = new HashMap<>();

    static {
        K[] ks = K.values();
        for (int i = 0; i < NAMES.length; i++) {
            BY_NAME.put((String) NAMES[i][0], ks[i]);
            if (NAMES[i][2] != null) {
                BY_CLASS.put((Class<?>) NAMES[i][2], ks[i]);
            }
        }
    }

    /** A declared type of the closed grammar. */
    public static final class T {
        public final K k;
        final T[] a; // type arguments (raw collection: Object), or the component of an array
        final boolean raw;

        T(K k, boolean raw, T... a) {
            this.k = k;
            this.raw = raw;
            this.a = a;
        }

        public boolean primitive() {
            return k.ordinal() >= K.Z.ordinal() && k.ordinal() <= K.C.ordinal();
        }

        /** The Java source text of this type (what the stub declares). */
        public String source() {
            if (k == K.ARRAY) {
                return a[0].source() + "[]";
            }
            String name = (String) NAMES[k.ordinal()][0];
            if (raw || a.length == 0) {
                return name;
            }
            StringBuilder sb = new StringBuilder(name).append('<');
            for (int i = 0; i < a.length; i++) {
                sb.append(i > 0 ? "," : "").append(a[i].source());
            }
            return sb.append('>').toString();
        }

        /** The JVM descriptor of this type's erasure (identifies overloads on the wire). */
        public String descriptor() {
            switch (k) {
                case VOID: return "V";
                case Z: return "Z";
                case B: return "B";
                case S: return "S";
                case I: return "I";
                case J: return "J";
                case F: return "F";
                case D: return "D";
                case C: return "C";
                case ARRAY: return "[" + a[0].descriptor();
                default: return "L" + ((String) NAMES[k.ordinal()][0]).replace('.', '/') + ";";
            }
        }

        Class<?> erasure() {
            if (k == K.ARRAY) {
                return a[0].erasure().arrayType();
            }
            if (k == K.PAIR) {
                return org.javatuples.Pair.class;
            }
            return (Class<?>) NAMES[k.ordinal()][2];
        }

        @Override
        public String toString() {
            return source();
        }
    }

    static final T OBJECT = new T(K.OBJECT, false);

    /** The declared parameter types of a function, in the parameter list's descriptor form "(...)". */
    public static String descriptor(T[] params) {
        StringBuilder sb = new StringBuilder("(");
        for (T t : params) {
            sb.append(t.descriptor());
        }
        return sb.append(')').toString();
    }

    // ---- parsing a type's source text (the report and the stub's constants)

    /** Parses one type of the closed grammar, e.g. "java.util.List<java.lang.Integer>"; anything else is Unsupported. */
    public static T parse(String text, boolean returnType) throws Unsupported {
        if (text.length() > 2000) {
            throw new Unsupported("type too long");
        }
        int[] pos = {0};
        T t = parseType(text, pos, 0);
        skipSpaces(text, pos);
        if (pos[0] != text.length()) {
            throw new Unsupported("not a type of the wire");
        }
        if (t.k == K.VOID && !returnType) {
            throw new Unsupported("void parameter");
        }
        return t;
    }

    private static void skipSpaces(String s, int[] pos) {
        while (pos[0] < s.length() && s.charAt(pos[0]) == ' ') {
            pos[0]++;
        }
    }

    private static T parseType(String s, int[] pos, int depth) throws Unsupported {
        if (depth > 20) {
            throw new Unsupported("type nested too deeply");
        }
        skipSpaces(s, pos);
        int start = pos[0];
        while (pos[0] < s.length()) {
            char ch = s.charAt(pos[0]);
            if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_') {
                pos[0]++;
            } else {
                break;
            }
        }
        K k = BY_NAME.get(s.substring(start, pos[0]));
        if (k == null) {
            throw new Unsupported("not a type of the wire");
        }
        int arity = (Integer) NAMES[k.ordinal()][1];
        T t;
        skipSpaces(s, pos);
        if (arity > 0 && pos[0] < s.length() && s.charAt(pos[0]) == '<') {
            pos[0]++;
            T[] args = new T[arity];
            for (int i = 0; i < arity; i++) {
                if (i > 0) {
                    skipSpaces(s, pos);
                    if (pos[0] >= s.length() || s.charAt(pos[0]) != ',') {
                        throw new Unsupported("not a type of the wire");
                    }
                    pos[0]++;
                }
                args[i] = parseType(s, pos, depth + 1);
                if (args[i].primitive() || args[i].k == K.VOID) {
                    throw new Unsupported("not a type of the wire");
                }
            }
            skipSpaces(s, pos);
            if (pos[0] >= s.length() || s.charAt(pos[0]) != '>') {
                throw new Unsupported("not a type of the wire");
            }
            pos[0]++;
            if (k == K.OPTIONAL && args[0].k == K.OPTIONAL) {
                throw new Unsupported("Optional of Optional (an empty inner one would read as an empty outer one)");
            }
            t = new T(k, false, args);
        } else if (arity > 0) {
            T[] args = new T[arity];
            java.util.Arrays.fill(args, OBJECT);
            t = new T(k, true, args);
        } else {
            t = new T(k, false);
        }
        while (true) {
            skipSpaces(s, pos);
            if (pos[0] + 1 < s.length() && s.charAt(pos[0]) == '[' && s.charAt(pos[0] + 1) == ']') {
                if (t.k == K.VOID || depth > 20) {
                    throw new Unsupported("not a type of the wire");
                }
                pos[0] += 2;
                t = new T(K.ARRAY, false, t);
                depth++;
            } else {
                return t;
            }
        }
    }

    // ---- a type from reflection (the program's side)

    /** The wire type of a declared (generic) parameter or return type seen by reflection. */
    public static T fromReflect(Type type, int depth) throws Unsupported {
        if (depth > 20) {
            throw new Unsupported("type nested too deeply");
        }
        if (type instanceof Class) {
            Class<?> c = (Class<?>) type;
            if (c.isArray()) {
                return new T(K.ARRAY, false, fromReflect(c.getComponentType(), depth + 1));
            }
            K k = kindOf(c);
            int arity = (Integer) NAMES[k.ordinal()][1];
            T[] args = new T[arity];
            java.util.Arrays.fill(args, OBJECT);
            return new T(k, arity > 0, args);
        }
        if (type instanceof GenericArrayType) {
            return new T(K.ARRAY, false, fromReflect(((GenericArrayType) type).getGenericComponentType(), depth + 1));
        }
        if (type instanceof ParameterizedType) {
            ParameterizedType p = (ParameterizedType) type;
            if (p.getOwnerType() != null || !(p.getRawType() instanceof Class)) {
                throw new Unsupported(type.getTypeName());
            }
            K k = kindOf((Class<?>) p.getRawType());
            Type[] actual = p.getActualTypeArguments();
            if (actual.length != (Integer) NAMES[k.ordinal()][1]) {
                throw new Unsupported(type.getTypeName());
            }
            T[] args = new T[actual.length];
            for (int i = 0; i < actual.length; i++) {
                args[i] = fromReflect(actual[i], depth + 1);
            }
            if (k == K.OPTIONAL && args[0].k == K.OPTIONAL) {
                throw new Unsupported(type.getTypeName());
            }
            return new T(k, false, args);
        }
        throw new Unsupported(type.getTypeName());
    }

    private static K kindOf(Class<?> c) throws Unsupported {
        K k = BY_CLASS.get(c);
        if (k == null && c.getName().equals("org.javatuples.Pair")) {
            k = K.PAIR;
        }
        if (k == null) {
            throw new Unsupported(c.getTypeName());
        }
        return k;
    }

    // ---------------------------------------------------------------- encoding

    /** A growing frame body, bounded by MAX_FRAME. */
    public static final class Out {
        byte[] b = new byte[256];
        int n;

        void ensure(int more) throws Unsupported {
            if ((long) n + more > MAX_FRAME) {
                throw new Unsupported("value larger than a frame (16 MiB)");
            }
            if (n + more > b.length) {
                b = java.util.Arrays.copyOf(b, (int) Math.min(MAX_FRAME, Math.max((long) b.length * 2, (long) n + more)));
            }
        }

        public void u8(int v) throws Unsupported {
            ensure(1);
            b[n++] = (byte) v;
        }

        void u32(long v) throws Unsupported {
            ensure(4);
            for (int s = 24; s >= 0; s -= 8) {
                b[n++] = (byte) (v >>> s);
            }
        }

        void i64(long v) throws Unsupported {
            ensure(8);
            for (int s = 56; s >= 0; s -= 8) {
                b[n++] = (byte) (v >>> s);
            }
        }

        void bytes(byte[] v) throws Unsupported {
            ensure(v.length);
            System.arraycopy(v, 0, b, n, v.length);
            n += v.length;
        }

        public void tag(char c, int count) throws Unsupported {
            u8(c);
            u32(count);
        }

        public void string(String s) throws Unsupported {
            byte[] v = utf8(s);
            u8('s');
            u32(v.length);
            bytes(v);
        }

        public void integer(long v) throws Unsupported {
            u8('i');
            i64(v);
        }

        /** The frame: u32 length, then the body. */
        public byte[] frame() {
            byte[] f = new byte[n + 4];
            f[0] = (byte) (n >>> 24);
            f[1] = (byte) (n >>> 16);
            f[2] = (byte) (n >>> 8);
            f[3] = (byte) n;
            System.arraycopy(b, 0, f, 4, n);
            return f;
        }
    }

    /** Strict UTF-8: a string with an unpaired surrogate has no UTF-8 form and is not sent. */
    static byte[] utf8(String s) throws Unsupported {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(ch)) {
                throw new Unsupported("a String with an unpaired surrogate");
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Encodes v as a value of declared type t. */
    public static void encode(Out o, T t, Object v, int depth) throws Unsupported {
        if (depth > MAX_DEPTH) {
            throw new Unsupported("value nested deeper than " + MAX_DEPTH);
        }
        if (v == null) {
            if (t.primitive()) {
                throw new Unsupported("null for " + t.source());
            }
            if (t.k == K.OPTIONAL) {
                throw new Unsupported("a null Optional");
            }
            o.u8('N');
            return;
        }
        try {
            switch (t.k) {
                case VOID:
                    o.u8('N');
                    return;
                case Z: case BOOLEAN:
                    o.u8((Boolean) v ? 'T' : 'F');
                    return;
                case B: case BYTE:
                    o.integer((Byte) v);
                    return;
                case S: case SHORT:
                    o.integer((Short) v);
                    return;
                case I: case INTEGER:
                    o.integer((Integer) v);
                    return;
                case J: case LONG:
                    o.integer((Long) v);
                    return;
                case F: case FLOAT:
                    o.u8('d');
                    o.i64(Double.doubleToRawLongBits((Float) v));
                    return;
                case D: case DOUBLE:
                    o.u8('d');
                    o.i64(Double.doubleToRawLongBits((Double) v));
                    return;
                case C: case CHARACTER:
                    o.u8('c');
                    o.u32((Character) v);
                    return;
                case STRING:
                    o.string((String) v);
                    return;
                case OBJECT: {
                    T rt = runtimeType(v);
                    o.u8('A');
                    o.string(rt.source());
                    encode(o, rt, v, depth + 1);
                    return;
                }
                case LIST: case ARRAYLIST: case LINKEDLIST:
                    sequence(o, 'l', t.a[0], ((List<?>) v).toArray(), depth);
                    return;
                case SET: case HASHSET: case LINKEDHASHSET: case TREESET:
                    sequence(o, 'S', t.a[0], ((Set<?>) v).toArray(), depth);
                    return;
                case MAP: case HASHMAP: case LINKEDHASHMAP: case TREEMAP: {
                    Object[] entries = ((Map<?, ?>) v).entrySet().toArray();
                    o.tag('m', entries.length);
                    for (Object e : entries) {
                        Map.Entry<?, ?> en = (Map.Entry<?, ?>) e;
                        encode(o, t.a[0], en.getKey(), depth + 1);
                        encode(o, t.a[1], en.getValue(), depth + 1);
                    }
                    return;
                }
                case OPTIONAL: {
                    Optional<?> opt = (Optional<?>) v;
                    if (opt.isEmpty()) {
                        o.u8('N');
                    } else {
                        encode(o, t.a[0], opt.get(), depth + 1);
                    }
                    return;
                }
                case PAIR: {
                    org.javatuples.Pair<?, ?> p = (org.javatuples.Pair<?, ?>) v;
                    o.tag('t', 2);
                    encode(o, t.a[0], p.getValue0(), depth + 1);
                    encode(o, t.a[1], p.getValue1(), depth + 1);
                    return;
                }
                case ARRAY: {
                    int n = Array.getLength(v);
                    Object[] items = new Object[n];
                    for (int i = 0; i < n; i++) {
                        items[i] = Array.get(v, i);
                    }
                    sequence(o, 'l', t.a[0], items, depth);
                    return;
                }
                default:
                    throw new Unsupported(t.source());
            }
        } catch (ClassCastException | IllegalArgumentException e) {
            throw new Unsupported("a " + v.getClass().getName() + " where " + t.source() + " is declared");
        }
    }

    private static void sequence(Out o, char tag, T item, Object[] items, int depth) throws Unsupported {
        o.tag(tag, items.length);
        for (Object x : items) {
            encode(o, item, x, depth + 1);
        }
    }

    /** The type an Object-declared value travels as (tag A): its own class, from a closed list. */
    static T runtimeType(Object v) throws Unsupported {
        Class<?> c = v.getClass();
        K k = BY_CLASS.get(c);
        if (k != null && k.ordinal() >= K.BOOLEAN.ordinal() && k != K.OBJECT) {
            int arity = (Integer) NAMES[k.ordinal()][1];
            T[] args = new T[arity];
            java.util.Arrays.fill(args, OBJECT);
            return new T(k, arity > 0, args);
        }
        if (v instanceof List) {
            return new T(K.LIST, true, OBJECT);
        }
        if (v instanceof Set) {
            return new T(K.SET, true, OBJECT);
        }
        if (v instanceof Map) {
            return new T(K.MAP, true, OBJECT, OBJECT);
        }
        if (c.getName().equals("org.javatuples.Pair")) {
            return new T(K.PAIR, true, OBJECT, OBJECT);
        }
        if (c.isArray()) {
            Class<?> comp = c.getComponentType();
            K ck = BY_CLASS.get(comp);
            if (ck != null && ck != K.VOID && (comp.isPrimitive() || ck.ordinal() <= K.OBJECT.ordinal())) {
                return new T(K.ARRAY, false, new T(ck, false));
            }
        }
        throw new Unsupported("a value of class " + c.getName() + " as Object");
    }

    // ---------------------------------------------------------------- decoding

    /** One frame's body, read with strict bounds. */
    public static final class In {
        final byte[] b;
        int p;

        public In(byte[] b) {
            this.b = b;
        }

        int left() {
            return b.length - p;
        }

        int u8() throws Malformed {
            if (p >= b.length) {
                throw new Malformed("value ends early");
            }
            return b[p++] & 0xff;
        }

        long u32() throws Malformed {
            if (left() < 4) {
                throw new Malformed("value ends early");
            }
            long v = 0;
            for (int i = 0; i < 4; i++) {
                v = (v << 8) | (b[p++] & 0xff);
            }
            return v;
        }

        long i64() throws Malformed {
            if (left() < 8) {
                throw new Malformed("value ends early");
            }
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (b[p++] & 0xff);
            }
            return v;
        }

        /** A count of items that each take at least `each` bytes: never more than the bytes left. */
        int count(int each) throws Malformed {
            long n = u32();
            if (n * each > left()) {
                throw new Malformed("count " + n + " larger than the frame");
            }
            return (int) n;
        }

        public void tag(char want) throws Malformed {
            int got = u8();
            if (got != want) {
                throw new Malformed("tag " + show(got) + " where " + want + " is expected");
            }
        }

        public int tagCount(char want, int each) throws Malformed {
            tag(want);
            return count(each);
        }

        public String string() throws Malformed {
            tag('s');
            return rawString();
        }

        String rawString() throws Malformed {
            int n = count(1);
            try {
                String s = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(b, p, n)).toString();
                p += n;
                return s.intern(); // a test may compare strings with == (HumanEval-X Java/137): literals are interned
            } catch (CharacterCodingException e) {
                throw new Malformed("a string that is not UTF-8");
            }
        }

        public long integer() throws Malformed {
            tag('i');
            return i64();
        }

        public void end() throws Malformed {
            if (p != b.length) {
                throw new Malformed((b.length - p) + " trailing bytes after the value");
            }
        }
    }

    private static String show(int tag) {
        return tag >= 0x21 && tag < 0x7f ? "'" + (char) tag + "'" : "0x" + Integer.toHexString(tag);
    }

    /** Decodes one value of declared type t. */
    public static Object decode(In in, T t, int depth) throws Malformed {
        if (depth > MAX_DEPTH) {
            throw new Malformed("value nested deeper than " + MAX_DEPTH);
        }
        int tag = in.u8();
        if (tag == 'N') {
            if (t.primitive()) {
                throw new Malformed("null where " + t.source() + " is declared");
            }
            return t.k == K.OPTIONAL ? Optional.empty() : null;
        }
        switch (t.k) {
            case Z: case BOOLEAN:
                if (tag == 'T' || tag == 'F') {
                    return tag == 'T';
                }
                break;
            case B: case BYTE:
                if (tag == 'i') {
                    return (byte) range(in.i64(), Byte.MIN_VALUE, Byte.MAX_VALUE, t);
                }
                break;
            case S: case SHORT:
                if (tag == 'i') {
                    return (short) range(in.i64(), Short.MIN_VALUE, Short.MAX_VALUE, t);
                }
                break;
            case I: case INTEGER:
                if (tag == 'i') {
                    return (int) range(in.i64(), Integer.MIN_VALUE, Integer.MAX_VALUE, t);
                }
                break;
            case J: case LONG:
                if (tag == 'i') {
                    return in.i64();
                }
                break;
            case F: case FLOAT:
                if (tag == 'd') {
                    double d = Double.longBitsToDouble(in.i64());
                    if (!Double.isNaN(d) && (double) (float) d != d) {
                        throw new Malformed("a double that is not a float where " + t.source() + " is declared");
                    }
                    return (float) d;
                }
                break;
            case D: case DOUBLE:
                if (tag == 'd') {
                    return Double.longBitsToDouble(in.i64());
                }
                break;
            case C: case CHARACTER:
                if (tag == 'c') {
                    long c = in.u32();
                    if (c > 0xffff) {
                        throw new Malformed("a character beyond UTF-16 where " + t.source() + " is declared");
                    }
                    return (char) c;
                }
                break;
            case STRING:
                if (tag == 's') {
                    return in.rawString();
                }
                break;
            case OBJECT:
                if (tag == 'A') {
                    String name = in.string();
                    T rt;
                    try {
                        rt = parse(name, false);
                    } catch (Unsupported e) {
                        throw new Malformed("tag A names a type the wire does not carry");
                    }
                    if (rt.k == K.OBJECT || rt.primitive() || (rt.a.length > 0 && !rt.raw && rt.k != K.ARRAY)
                            || (rt.k == K.ARRAY && (rt.a[0].k == K.ARRAY || rt.a[0].a.length > 0))) {
                        throw new Malformed("tag A names a type the wire does not carry");
                    }
                    return decode(in, rt, depth + 1);
                }
                break;
            case LIST: case ARRAYLIST: case LINKEDLIST:
                if (tag == 'l') {
                    int n = in.count(1);
                    List<Object> out = t.k == K.LINKEDLIST ? new LinkedList<>() : new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        out.add(decode(in, t.a[0], depth + 1));
                    }
                    return out;
                }
                break;
            case SET: case HASHSET: case LINKEDHASHSET: case TREESET:
                if (tag == 'S') {
                    int n = in.count(1);
                    Set<Object> out = t.k == K.TREESET ? new TreeSet<>() : new LinkedHashSet<>();
                    for (int i = 0; i < n; i++) {
                        Object x = decode(in, t.a[0], depth + 1);
                        if (!add(out, x)) {
                            throw new Malformed("a set with a repeated or incomparable element");
                        }
                    }
                    return out;
                }
                break;
            case MAP: case HASHMAP: case LINKEDHASHMAP: case TREEMAP:
                if (tag == 'm') {
                    int n = in.count(2);
                    Map<Object, Object> out = t.k == K.TREEMAP ? new TreeMap<>() : new LinkedHashMap<>();
                    for (int i = 0; i < n; i++) {
                        Object key = decode(in, t.a[0], depth + 1);
                        Object value = decode(in, t.a[1], depth + 1);
                        if (!put(out, key, value)) {
                            throw new Malformed("a map with a repeated or incomparable key");
                        }
                    }
                    return out;
                }
                break;
            case OPTIONAL:
                in.p--; // the value itself (not N): Optional.of(it)
                Object inner = decode(in, t.a[0], depth + 1);
                if (inner == null) {
                    throw new Malformed("Optional of null");
                }
                return Optional.of(inner);
            case PAIR:
                if (tag == 't') {
                    if (in.count(1) != 2) {
                        throw new Malformed("a Pair is a tuple of two");
                    }
                    Object x = decode(in, t.a[0], depth + 1);
                    Object y = decode(in, t.a[1], depth + 1);
                    return org.javatuples.Pair.with(x, y);
                }
                break;
            case ARRAY:
                if (tag == 'l') {
                    int n = in.count(1);
                    Object arr = Array.newInstance(t.a[0].erasure(), n);
                    for (int i = 0; i < n; i++) {
                        Object x = decode(in, t.a[0], depth + 1);
                        if (x == null && t.a[0].primitive()) {
                            throw new Malformed("null in " + t.source());
                        }
                        Array.set(arr, i, x);
                    }
                    return arr;
                }
                break;
            default:
                break;
        }
        throw new Malformed("tag " + show(tag) + " where " + t.source() + " is declared");
    }

    private static long range(long v, long lo, long hi, T t) throws Malformed {
        if (v < lo || v > hi) {
            throw new Malformed(v + " out of range for " + t.source());
        }
        return v;
    }

    private static boolean add(Set<Object> s, Object x) {
        try {
            return s.add(x);
        } catch (RuntimeException e) { // TreeSet: null or incomparable
            return false;
        }
    }

    private static boolean put(Map<Object, Object> m, Object k, Object v) {
        try {
            return !m.containsKey(k) && m.put(k, v) == null;
        } catch (RuntimeException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- frames and descriptors

    /** Reads one frame's body; null at end of file before a frame starts. */
    public static byte[] readFrame(DataInputStream in) throws IOException, Malformed {
        int b0 = in.read();
        if (b0 < 0) {
            return null;
        }
        long n = ((long) b0 << 24) | ((long) in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8)
                | in.readUnsignedByte();
        if (n > MAX_FRAME) {
            throw new Malformed("frame of " + n + " bytes (more than 16 MiB)");
        }
        byte[] body = new byte[(int) n];
        in.readFully(body);
        return body;
    }

    /** The class path's loader, or (image build only: -Drlce.warm=DIR) one over DIR, see warm.py. */
    public static ClassLoader loader(Class<?> of) {
        String warm = System.getProperty("rlce.warm");
        if (warm == null) {
            return of.getClassLoader();
        }
        try {
            return new java.net.URLClassLoader(new java.net.URL[] {new File(warm).toURI().toURL()}, of.getClassLoader());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A FileDescriptor for an inherited descriptor number (the channel's socket, which /proc/self/fd
     *  cannot reopen). FileDescriptor(int) is private to java.base; setting its field through
     *  sun.misc.Unsafe (jdk.unsupported, open to all) needs no --add-opens, which would turn off the
     *  class-data sharing archive's module graph and cost every JVM start ~10 ms. */
    public static FileDescriptor inherited(int fd) {
        try {
            Field theUnsafe = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            sun.misc.Unsafe unsafe = (sun.misc.Unsafe) theUnsafe.get(null);
            FileDescriptor d = new FileDescriptor();
            unsafe.putInt(d, unsafe.objectFieldOffset(FileDescriptor.class.getDeclaredField("fd")), fd);
            return d;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
