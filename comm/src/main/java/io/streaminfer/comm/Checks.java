package io.streaminfer.comm;

/** Argument checks shared by the backends; messages name the group, rank and argument. */
final class Checks {
    private Checks() {}

    static void range(String where, String what, float[] array, int offset, long length) {
        if (array == null) {
            throw new IllegalArgumentException(where + ": " + what + " buffer is null");
        }
        if (offset < 0 || length < 0 || offset + length > array.length) {
            throw new IllegalArgumentException(where + ": " + what + " range [" + offset + ", " + offset + "+"
                    + length + ") does not fit an array of " + array.length);
        }
    }

    /** True when the two ranges of the same array share at least one element. */
    static boolean overlap(float[] a, int aOff, long aLen, float[] b, int bOff, long bLen) {
        return a == b && aLen > 0 && bLen > 0 && aOff < bOff + bLen && bOff < aOff + aLen;
    }

    static void root(String where, int root, int size) {
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException(where + ": broadcast root " + root + " is not a rank of a group of "
                    + size);
        }
    }
}
