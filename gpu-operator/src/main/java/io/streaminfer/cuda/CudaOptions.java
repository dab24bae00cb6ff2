package io.streaminfer.cuda;

import java.util.Locale;

/**
 * What a {@code cuda} backend name asks for: {@code cuda} or {@code cuda:key=value,...} with keys
 * {@code precision} (fp32, the default, or bf16) and {@code device-base} (rank r of a replica runs on
 * device device-base + r; default 0). Pure Java: parsing a name touches no CUDA class.
 *
 * @param precision how matrices are stored
 * @param deviceBase CUDA device of rank 0
 */
public record CudaOptions(CudaPrecision precision, int deviceBase) {
    public static final String BACKEND = "cuda";

    public CudaOptions {
        if (precision == null) {
            throw new IllegalArgumentException("CUDA precision is required");
        }
        if (deviceBase < 0) {
            throw new IllegalArgumentException("CUDA device-base must be >= 0, got " + deviceBase);
        }
    }

    public static CudaOptions defaults() {
        return new CudaOptions(CudaPrecision.FP32, 0);
    }

    /** Whether a backend name selects the CUDA backend ({@code cuda} or {@code cuda:...}). */
    public static boolean isCuda(String backend) {
        if (backend == null) {
            return false;
        }
        String name = backend.trim().toLowerCase(Locale.ROOT);
        return name.equals(BACKEND) || name.startsWith(BACKEND + ":");
    }

    /** Parses a backend name; see the class comment. Names the bad key or value. */
    public static CudaOptions parse(String backend) {
        if (!isCuda(backend)) {
            throw new IllegalArgumentException("'" + backend + "' is not a CUDA backend name (cuda[:key=value,...])");
        }
        String trimmed = backend.trim();
        CudaPrecision precision = CudaPrecision.FP32;
        int deviceBase = 0;
        if (trimmed.length() > BACKEND.length()) {
            String body = trimmed.substring(BACKEND.length() + 1);
            for (String part : body.split(",", -1)) {
                int eq = part.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("'" + part + "' in backend '" + backend
                            + "' is not key=value; keys: precision, device-base");
                }
                String key = part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
                String value = part.substring(eq + 1).trim();
                switch (key) {
                    case "precision" -> precision = CudaPrecision.parse(value);
                    case "device-base" -> {
                        try {
                            deviceBase = Integer.parseInt(value);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("device-base in backend '" + backend
                                    + "' must be an integer, got '" + value + "'");
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown key '" + key + "' in backend '" + backend
                            + "'; keys: precision, device-base");
                }
            }
        }
        return new CudaOptions(precision, deviceBase);
    }

    /** CUDA device of a rank. */
    public int deviceOf(int rank) {
        return deviceBase + rank;
    }
}
