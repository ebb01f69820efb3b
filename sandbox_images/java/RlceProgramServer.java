// rlce's program side of a split Java assertion test (docs/SPLIT_TESTS.md).
//
// Runs in the program's JVM (candidate uid): serves the test's requests on the
// value channel (fd 3) until end of file, then exits 0. Arguments are decoded
// by the called method's generic parameter types and results encoded by its
// declared generic return type (RlceWire). Nothing here is trusted by the
// test: the program may replace or bypass all of it, and the test validates
// every frame it gets.
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

public final class RlceProgramServer {
    private RlceProgramServer() {}

    /** The classes a test may reach (HumanEval-X's Solution, MultiPL-E's Problem). */
    static final List<String> CLASSES = List.of("Solution", "Problem");

    /** Where Solution comes from: the class path; at image build (warm.py, making the
     *  class-data sharing archive, whose class path must be a prefix of the real one) a folder. */
    static final ClassLoader LOADER = RlceWire.loader(RlceProgramServer.class);

    private static final List<Object> objects = new ArrayList<>();
    private static final Map<String, Executable> executables = new HashMap<>();

    public static void main(String[] args) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(RlceWire.inherited(3)), 1 << 16));
        FileOutputStream out = new FileOutputStream(RlceWire.inherited(3));
        while (true) {
            byte[] frame;
            try {
                frame = RlceWire.readFrame(in);
            } catch (IOException | RlceWire.Malformed e) {
                frame = null;
            }
            if (frame == null) {
                System.out.flush();
                System.exit(0);
            }
            byte[] reply = serve(frame);
            out.write(reply);
        }
    }

    /** One request -> one reply frame: t[s "ok", value] or t[s "raised", s message]. */
    static byte[] serve(byte[] frame) {
        Executable target;
        Object[] values;
        Object self = null;
        try {
            RlceWire.In in = new RlceWire.In(frame);
            if (in.tagCount('t', 1) != 4) {
                throw new RlceWire.Malformed("a request is a tuple of four");
            }
            String op = in.string();
            String function = in.string();
            long handle = in.integer();
            target = resolve(op, function);
            if (target instanceof Method && !Modifier.isStatic(target.getModifiers())) {
                if (handle < 1 || handle > objects.size()) {
                    throw new IllegalArgumentException("no object with handle " + handle);
                }
                self = objects.get((int) handle - 1);
                if (!target.getDeclaringClass().isInstance(self)) {
                    throw new IllegalArgumentException("handle " + handle + " is not a " + function);
                }
            }
            Type[] types = target.getGenericParameterTypes();
            int n = in.tagCount('l', 1);
            if (n != types.length) {
                throw new IllegalArgumentException(function + " takes " + types.length + " arguments, not " + n);
            }
            values = new Object[n];
            for (int i = 0; i < n; i++) {
                values[i] = RlceWire.decode(in, RlceWire.fromReflect(types[i], 0), 3);
            }
            in.end();
        } catch (Throwable e) {
            return raised("rlce: bad request: " + e);
        }
        Object result;
        try {
            result = target instanceof Method ? ((Method) target).invoke(self, values)
                    : ((Constructor<?>) target).newInstance(values);
        } catch (InvocationTargetException e) {
            return raised(describe(e.getCause()));
        } catch (Throwable e) {
            return raised(describe(e));
        }
        try {
            RlceWire.Out o = new RlceWire.Out();
            o.tag('t', 2);
            o.string("ok");
            if (target instanceof Method) {
                RlceWire.encode(o, RlceWire.fromReflect(((Method) target).getGenericReturnType(), 0), result, 2);
            } else {
                objects.add(result);
                o.integer(objects.size());
            }
            return o.frame();
        } catch (Throwable e) {
            return raised("rlce: the value returned cannot travel: " + e.getMessage());
        }
    }

    private static String describe(Throwable e) {
        try {
            return String.valueOf(e); // the program's own toString may throw too
        } catch (Throwable t) {
            return e.getClass().getName();
        }
    }

    private static byte[] raised(String message) {
        try {
            RlceWire.Out o = new RlceWire.Out();
            o.tag('t', 2);
            o.string("raised");
            String m = message.length() > 4000 ? message.substring(0, 4000) : message;
            o.string(new String(m.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)); // no lone surrogates
            return o.frame();
        } catch (RlceWire.Unsupported e) {
            try {
                RlceWire.Out o = new RlceWire.Out();
                o.tag('t', 2);
                o.string("raised");
                o.string("exception");
                return o.frame();
            } catch (RlceWire.Unsupported never) {
                throw new IllegalStateException(never);
            }
        }
    }

    /** "Solution.name(descriptor)" (op call) or "Solution(descriptor)" (op new) -> the method or constructor. */
    static Executable resolve(String op, String function) throws ReflectiveOperationException {
        Executable found = executables.get(op + " " + function);
        if (found != null) {
            return found;
        }
        int paren = function.indexOf('(');
        if (paren < 0) {
            throw new NoSuchMethodException(function);
        }
        String head = function.substring(0, paren);
        String params = function.substring(paren);
        String className = op.equals("new") ? head : head.substring(0, Math.max(0, head.indexOf('.')));
        if (!CLASSES.contains(className) || !(op.equals("new") || op.equals("call"))) {
            throw new NoSuchMethodException(function);
        }
        Class<?> cls = Class.forName(className, true, LOADER);
        if (op.equals("new")) {
            for (Constructor<?> c : cls.getDeclaredConstructors()) {
                if (!Modifier.isPrivate(c.getModifiers()) && descriptor(c.getParameterTypes()).equals(params)) {
                    found = c;
                }
            }
        } else {
            String name = head.substring(className.length() + 1);
            for (Class<?> k = cls; k != null && found == null && !k.getName().startsWith("java."); k = k.getSuperclass()) {
                for (Method m : k.getDeclaredMethods()) {
                    if (m.getName().equals(name) && !Modifier.isPrivate(m.getModifiers()) && !m.isSynthetic()
                            && !m.isBridge() && descriptor(m.getParameterTypes()).equals(params)) {
                        found = m;
                    }
                }
            }
        }
        if (found == null) {
            throw new NoSuchMethodException(function);
        }
        found.setAccessible(true); // the program's classes are package-private
        executables.put(op + " " + function, found);
        return found;
    }

    static String descriptor(Class<?>[] types) {
        StringBuilder sb = new StringBuilder("(");
        for (Class<?> c : types) {
            sb.append(c.descriptorString());
        }
        return sb.append(')').toString();
    }
}
