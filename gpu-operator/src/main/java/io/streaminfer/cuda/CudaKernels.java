package io.streaminfer.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The kernels of {@code transformer_kernels.cu}, compiled once with NVRTC for the current device's compute
 * capability, loaded with the driver API and launched on a given stream. One instance per rank (device
 * and thread): its argument block is reused from launch to launch, which is safe because cuLaunchKernel
 * copies the argument values before it returns.
 */
final class CudaKernels implements AutoCloseable {
    static final String SOURCE = "transformer_kernels.cu";
    /** Threads per block; the kernels' reductions assume exactly this many (BLOCK in the source). */
    static final int BLOCK = 256;
    static final List<String> ENTRY_POINTS =
            List.of("embed_rows", "rms_norm", "rope_store", "attention", "add_in_place", "swiglu", "to_bf16",
                    "add_bias", "head_rms_norm");

    private final CUmod_st module = new CUmod_st();
    private final Map<String, CUfunc_st> functions = new HashMap<>();
    private final String arch;
    private final KernelArgs args = new KernelArgs();

    /** Compiles and loads the kernels for {@code device}, which must be current on this thread. */
    CudaKernels(int device) {
        int[] major = {0};
        int[] minor = {0};
        CudaSupport.check(cudart.cudaDeviceGetAttribute(major, cudart.cudaDevAttrComputeCapabilityMajor, device),
                "compute capability of device " + device);
        CudaSupport.check(cudart.cudaDeviceGetAttribute(minor, cudart.cudaDevAttrComputeCapabilityMinor, device),
                "compute capability of device " + device);
        int wanted = major[0] * 10 + minor[0];
        int supported = highestSupportedArch(wanted);
        // A real architecture gives a cubin; an older virtual one gives PTX that the driver compiles forward.
        this.arch = supported == wanted ? "sm_" + wanted : "compute_" + supported;
        byte[] image = compile(readSource(), arch);
        CudaSupport.checkDriver(cudart.cuInit(0), "cuInit");
        try (BytePointer imagePointer = new BytePointer(image.length + 1)) {
            imagePointer.put(image).put(image.length, (byte) 0);
            CudaSupport.checkDriver(cudart.cuModuleLoadData(module, imagePointer),
                    "cuModuleLoadData(" + SOURCE + " for " + arch + ")");
        }
        for (String name : ENTRY_POINTS) {
            CUfunc_st f = new CUfunc_st();
            CudaSupport.checkDriver(cudart.cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + name + ")");
            functions.put(name, f);
        }
    }

    /** The architecture the kernels were built for, e.g. sm_90. */
    String arch() {
        return arch;
    }

    /** The kernel source, as shipped in the jar. */
    static String readSource() {
        try (InputStream in = CudaKernels.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + SOURCE + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + SOURCE, e);
        }
    }

    private static int highestSupportedArch(int wanted) {
        int[] n = {0};
        check(nvrtc.nvrtcGetNumSupportedArchs(n), "nvrtcGetNumSupportedArchs");
        int[] archs = new int[n[0]];
        check(nvrtc.nvrtcGetSupportedArchs(archs), "nvrtcGetSupportedArchs");
        int best = -1;
        for (int a : archs) {
            if (a <= wanted && a > best) {
                best = a;
            }
        }
        if (best < 0) {
            throw new IllegalStateException("NVRTC supports none of the architectures up to the device's sm_" + wanted);
        }
        return best;
    }

    private static byte[] compile(String source, String arch) {
        _nvrtcProgram program = new _nvrtcProgram();
        check(nvrtc.nvrtcCreateProgram(program, new BytePointer(source), new BytePointer(SOURCE), 0,
                (PointerPointer<?>) null, (PointerPointer<?>) null), "nvrtcCreateProgram");
        try {
            // No fused multiply-add: elementwise steps then round like the Java reference.
            PointerPointer<?> options = new PointerPointer<>("--gpu-architecture=" + arch, "--fmad=false",
                    "--std=c++17");
            int err = nvrtc.nvrtcCompileProgram(program, 3, options);
            if (err != nvrtc.NVRTC_SUCCESS) {
                throw new IllegalStateException("NVRTC could not compile " + SOURCE + " for " + arch + ": "
                        + nvrtc.nvrtcGetErrorString(err).getString() + "\n" + log(program));
            }
            SizeTPointer size = new SizeTPointer(1);
            boolean cubin = arch.startsWith("sm_");
            check(cubin ? nvrtc.nvrtcGetCUBINSize(program, size) : nvrtc.nvrtcGetPTXSize(program, size),
                    "nvrtcGet" + (cubin ? "CUBIN" : "PTX") + "Size");
            try (BytePointer image = new BytePointer(size.get())) {
                check(cubin ? nvrtc.nvrtcGetCUBIN(program, image) : nvrtc.nvrtcGetPTX(program, image),
                        "nvrtcGet" + (cubin ? "CUBIN" : "PTX"));
                byte[] out = new byte[(int) size.get()];
                image.get(out);
                return out;
            }
        } finally {
            nvrtc.nvrtcDestroyProgram(program);
        }
    }

    private static String log(_nvrtcProgram program) {
        SizeTPointer size = new SizeTPointer(1);
        if (nvrtc.nvrtcGetProgramLogSize(program, size) != nvrtc.NVRTC_SUCCESS || size.get() <= 1) {
            return "(no compiler log)";
        }
        try (BytePointer text = new BytePointer(size.get())) {
            nvrtc.nvrtcGetProgramLog(program, text);
            return text.getString();
        }
    }

    private static void check(int err, String what) {
        if (err != nvrtc.NVRTC_SUCCESS) {
            throw new IllegalStateException(what + " failed: NVRTC error " + err + " ("
                    + nvrtc.nvrtcGetErrorString(err).getString() + ")");
        }
    }

    // ---- launching: begin(), then one arg per kernel parameter in order, then launch(...) ----

    CudaKernels begin() {
        args.clear();
        return this;
    }

    /** A device pointer (0 for a null pointer). */
    CudaKernels ptr(long deviceAddress) {
        args.ptr(deviceAddress);
        return this;
    }

    CudaKernels i32(int value) {
        args.i32(value);
        return this;
    }

    CudaKernels f32(float value) {
        args.f32(value);
        return this;
    }

    /** Launches {@code name} with the arguments given since {@link #begin()}. */
    void launch(String name, int gridX, int gridY, int sharedBytes, CUstream_st stream) {
        CUfunc_st f = functions.get(name);
        if (f == null) {
            throw new IllegalArgumentException("no kernel " + name + " in " + SOURCE);
        }
        CudaSupport.checkDriver(cudart.cuLaunchKernel(f, gridX, gridY, 1, BLOCK, 1, 1, sharedBytes, stream,
                args.params(), null), "launch of " + name + " (grid " + gridX + "x" + gridY + ")");
    }

    /** Blocks covering n elements, one thread each. */
    static int blocksFor(long n) {
        return (int) ((n + BLOCK - 1) / BLOCK);
    }

    @Override
    public void close() {
        cudart.cuModuleUnload(module);
        args.close();
    }
}
