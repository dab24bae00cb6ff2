package io.streaminfer.compute;

/**
 * Whether the Vector API ({@code jdk.incubator.vector}) is loaded in this JVM. It is an incubator module, so
 * {@code java -jar} does not load it unless {@code --add-modules jdk.incubator.vector} is given.
 *
 * <p>This class never touches a Vector API class, so calling it is safe when the module is absent.
 */
public final class VectorSupport {
    /** The module to add on the command line. */
    public static final String MODULE = "jdk.incubator.vector";
    /** The flag that loads it. */
    public static final String JVM_FLAG = "--add-modules " + MODULE;

    private VectorSupport() {}

    /** True when the boot layer holds {@code jdk.incubator.vector}. */
    public static boolean available() {
        return ModuleLayer.boot().findModule(MODULE).isPresent();
    }

    /** Throws with the flag to use when the module is absent. */
    static void require(String who) {
        if (!available()) {
            throw new IllegalStateException(who + " needs the Vector API, but module " + MODULE
                    + " is not loaded: run java with " + JVM_FLAG);
        }
    }
}
