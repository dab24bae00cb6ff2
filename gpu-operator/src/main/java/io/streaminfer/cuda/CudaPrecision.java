package io.streaminfer.cuda;

import java.util.Locale;

/** How a CUDA shard stores its matrices. Activations, norms, the embedding and the KV cache stay fp32. */
public enum CudaPrecision {
    /** fp32 weights, cublasSgemm (no TF32). */
    FP32(Float.BYTES),
    /** bfloat16 weights and GEMM inputs, fp32 accumulation and output (cublasGemmEx, CUBLAS_COMPUTE_32F). */
    BF16(2);

    private final int bytesPerWeight;

    CudaPrecision(int bytesPerWeight) {
        this.bytesPerWeight = bytesPerWeight;
    }

    public int bytesPerWeight() {
        return bytesPerWeight;
    }

    public static CudaPrecision parse(String text) {
        for (CudaPrecision p : values()) {
            if (p.name().equals(text.trim().toUpperCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown CUDA precision '" + text + "'; expected fp32 or bf16");
    }
}
