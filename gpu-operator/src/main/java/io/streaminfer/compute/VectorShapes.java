package io.streaminfer.compute;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width of the product kernels ({@link VectorMatmul}'s fp32 panels and the compressed kinds' fused
 * kernels): 512 bits where the machine runs them natively and the JVM is 25 or newer, else 256. Lanes are
 * output columns, so the width never changes a bit.
 *
 * <p>Why the JVM matters, measured on the 2-vCPU EPYC (AVX-512, full-width units): a 1-row, 3-panel fp32
 * kernel ran at 56 GFLOP/s with 512-bit vectors on JDK 17 and 25 alike, but on JDK 17 it fell to 5 GFLOP/s
 * once a 256-bit kernel had run in the same process (C2 then sees two vector classes behind the Vector API's
 * shared methods and stops intrinsifying: every vector is boxed); JDK 25 kept 56. Every other kernel here is
 * 256 bits, and on JDK 17 neither a byte-to-float conversion nor a widening into 512 bits is intrinsified
 * (2.4 against 40 GFLOP/s), so on JDK 17 everything stays at 256. {@value #PROPERTY}=256 or 512 overrides the
 * choice (512 only where the machine has it), to compare both on one machine.
 */
final class VectorShapes {
    static final String PROPERTY = "streaminfer.vector.bits";
    static final VectorSpecies<Float> WIDE_FLOATS =
            wideBits(FloatVector.SPECIES_PREFERRED.vectorBitSize(), Runtime.version().feature(),
                    System.getProperty(PROPERTY)) == 512 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    /** Output columns per panel: 16 or 8. */
    static final int LANES = WIDE_FLOATS.length();
    /** One byte, short or int per lane: the compressed kinds' values before they are widened to floats. */
    static final VectorSpecies<Byte> LANE_BYTES = LANES == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    static final VectorSpecies<Short> LANE_SHORTS = LANES == 16 ? ShortVector.SPECIES_256 : ShortVector.SPECIES_128;
    static final VectorSpecies<Integer> LANE_INTS = LANES == 16 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;

    private VectorShapes() {}

    /** The width to use, from the machine's preferred width, the JVM's feature release and the override. */
    static int wideBits(int preferredBits, int javaFeature, String override) {
        if (override != null) {
            if (!override.equals("256") && !override.equals("512")) {
                throw new IllegalArgumentException(PROPERTY + " must be 256 or 512, got '" + override + "'");
            }
            return Integer.parseInt(override) == 512 && preferredBits >= 512 ? 512 : 256;
        }
        return preferredBits >= 512 && javaFeature >= 25 ? 512 : 256;
    }
}
