// rlce's harness for Java assertion tests; see docs/SECURITY.md, "Compiled runtimes".
//
// The JVM starts here, so the runner's nonce (fd 3) is read before any class
// of the program is loaded; it lives in a local variable, which neither
// reflection nor a shutdown hook can reach. The test's Main.main runs next;
// the nonce goes back on fd 4 only if it returned. System.exit(0) from a
// static initialiser, an AssertionError or any other throwable never produce it.
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

public final class RlceHarness {
    private RlceHarness() {}

    public static void main(String[] args) throws Exception {
        byte[] nonce = new byte[64];
        int length = 0;
        try (FileInputStream in = new FileInputStream("/proc/self/fd/3")) {
            int got;
            while (length < nonce.length && (got = in.read(nonce, length, nonce.length - length)) > 0) {
                length += got;
            }
        }
        if (length != 32) {
            Runtime.getRuntime().halt(111); // someone read it first
        }
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) new String[0]);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            cause.printStackTrace();
            System.err.flush();
            Runtime.getRuntime().halt(cause instanceof AssertionError ? 3 : 4);
        }
        System.out.flush();
        try (FileOutputStream out = new FileOutputStream("/proc/self/fd/4")) {
            out.write(nonce, 0, length);
        }
    }
}
