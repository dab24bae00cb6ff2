package io.streaminfer.cuda;

import io.streaminfer.compute.PackedMatrix;
import io.streaminfer.compute.WeightSlice;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * Weight matrices on the device at the chosen precision, and their products through cuBLAS on the rank's
 * stream. fp32 GEMMs stay fp32 (no TF32); bf16 ones convert the input to bf16 and use tensor cores with
 * fp32 accumulation.
 */
final class CudaGemm implements AutoCloseable {

    /** (rows, cols) row-major at {@code address}: rows = output features, cols = input features. */
    record DeviceMatrix(long address, int rows, int cols, long bytes) implements PackedMatrix {
        @Override
        public int segments() {
            return 1;
        }
    }

    private final CudaDevice device;
    private final CudaKernels kernels;
    private final CudaPrecision precision;
    private final cublasContext handle = new cublasContext();
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    private long bf16Input;       // (rows, widest input) bf16 copy of a GEMM input
    private long bf16InputBytes;

    CudaGemm(CudaDevice device, CudaKernels kernels, CudaPrecision precision) {
        this.device = device;
        this.kernels = kernels;
        this.precision = precision;
        CudaSupport.checkCublas(cublas.cublasCreate_v2(handle), "cublasCreate");
        CudaSupport.checkCublas(cublas.cublasSetStream_v2(handle, device.stream()), "cublasSetStream");
        CudaSupport.checkCublas(cublas.cublasSetMathMode(handle, cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    }

    /** Stacks the blocks (same width) into one device matrix, dequantized row by row on the host. */
    DeviceMatrix upload(String what, WeightSlice... blocks) {
        int cols = blocks[0].cols();
        long totalRows = 0;
        for (WeightSlice b : blocks) {
            if (b.cols() != cols) {
                throw new IllegalArgumentException(what + ": blocks differ in width");
            }
            totalRows += b.rows();
        }
        long elements = totalRows * cols;
        long bytes = elements * precision.bytesPerWeight();
        long address = device.allocate(bytes, what);
        float[] row = new float[cols];
        short[] rowBits = new short[cols];
        Pointer staging = precision == CudaPrecision.FP32 ? new FloatPointer(elements) : new ShortPointer(elements);
        try {
            long at = 0;
            for (WeightSlice b : blocks) {
                for (int r = 0; r < b.rows(); r++) {
                    b.readRow(r, row, 0);
                    if (staging instanceof FloatPointer f) {
                        f.position(at).put(row, 0, cols);
                    } else {
                        for (int i = 0; i < cols; i++) {
                            rowBits[i] = Bf16.fromFloat(row[i]);
                        }
                        ((ShortPointer) staging).position(at).put(rowBits, 0, cols);
                    }
                    at += cols;
                }
            }
            staging.position(0);
            device.copyToDevice(address, staging, bytes, what);
        } finally {
            staging.close();
        }
        return new DeviceMatrix(address, (int) totalRows, cols, bytes);
    }

    /**
     * y = x · Wᵀ for row-major x (rows, k), W (n, k), y (rows, n). cuBLAS is column-major: a row-major
     * (a, b) matrix is a column-major (b, a) one, so row-major W is column-major Wᵀ (k, n; ld k), x is
     * column-major xᵀ (k, rows; ld k), and we want column-major yᵀ (n, rows; ld n) = W · xᵀ =
     * op_T(Wᵀ) · op_N(xᵀ): transa = T, transb = N, m = n, n = rows, k = k.
     */
    void multiply(PackedMatrix matrix, long input, int rows, long output) {
        if (!(matrix instanceof DeviceMatrix w)) {
            throw new IllegalArgumentException("the CUDA backend got a matrix of another backend ("
                    + matrix.getClass().getSimpleName() + ")");
        }
        if (precision == CudaPrecision.FP32) {
            CudaSupport.checkCublas(cublas.cublasSgemm_v2(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N,
                    w.rows(), rows, w.cols(), one, DeviceBuffer.floats(w.address()), w.cols(),
                    DeviceBuffer.floats(input), w.cols(), zero, DeviceBuffer.floats(output), w.rows()), "cublasSgemm");
            return;
        }
        long n = (long) rows * w.cols();
        if (bf16InputBytes < 2 * n) {
            bf16InputBytes = 2 * n;
            bf16Input = device.allocate(bf16InputBytes, "bf16 input");
        }
        kernels.begin().ptr(bf16Input).ptr(input).i32((int) n)
                .launch("to_bf16", CudaKernels.blocksFor(n), 1, 0, device.stream());
        CudaSupport.checkCublas(cublas.cublasGemmEx(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N,
                w.rows(), rows, w.cols(), one, DeviceBuffer.pointer(w.address()), cudart.CUDA_R_16BF, w.cols(),
                DeviceBuffer.pointer(bf16Input), cudart.CUDA_R_16BF, w.cols(), zero, DeviceBuffer.pointer(output),
                cudart.CUDA_R_32F, w.rows(), cublas.CUBLAS_COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmEx(bf16)");
    }

    @Override
    public void close() {
        cublas.cublasDestroy_v2(handle);
        one.close();
        zero.close();
    }
}
