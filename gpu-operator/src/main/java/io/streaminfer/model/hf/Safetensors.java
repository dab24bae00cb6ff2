package io.streaminfer.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streaminfer.compute.StorageKind;
import io.streaminfer.compute.WeightTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a {@code .safetensors} file in place: a little-endian u64 header length N, N bytes of JSON naming
 * each tensor's dtype, shape and [begin, end) byte offsets (relative to byte 8 + N), then the raw
 * row-major data. Each tensor is memory-mapped on its own; nothing is copied onto the heap.
 */
final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A header larger than this is not a safetensors file (the format caps it at 100 MB). */
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {}

    /** Every tensor of the file by its own name. */
    static Map<String, WeightTensor> read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (size < 8 || channel.read(lengthBytes, 0) != 8) {
                throw new IOException(file + ": not a safetensors file (shorter than its 8-byte header length)");
            }
            long headerLength = lengthBytes.getLong(0);
            if (headerLength < 2 || headerLength > MAX_HEADER || 8 + headerLength > size) {
                throw new IOException(file + ": not a safetensors file (header length " + headerLength + " for a file of "
                        + size + " bytes)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            while (header.hasRemaining()) {
                if (channel.read(header, 8 + header.position()) < 0) {
                    throw new IOException(file + ": the file ends inside its header");
                }
            }
            JsonNode root = JSON.readTree(header.array());
            long dataStart = 8 + headerLength;
            Map<String, WeightTensor> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                if (entry.getKey().equals("__metadata__")) {
                    continue;
                }
                tensors.put(entry.getKey(), tensor(file, channel, dataStart, size, entry.getKey(), entry.getValue()));
            }
            return tensors;
        }
    }

    private static WeightTensor tensor(Path file, FileChannel channel, long dataStart, long size, String name,
                                       JsonNode info) throws IOException {
        String dtype = info.path("dtype").asText();
        StorageKind kind = switch (dtype) {
            case "F32" -> StorageKind.F32;
            case "F16" -> StorageKind.F16;
            case "BF16" -> StorageKind.BF16;
            default -> throw new IOException(file + ": tensor " + name + " has dtype " + dtype
                    + ", which this release cannot read (F32, F16 and BF16 can be)");
        };
        JsonNode shape = info.path("shape");
        JsonNode offsets = info.path("data_offsets");
        if (!shape.isArray() || shape.size() < 1 || shape.size() > 2 || !offsets.isArray() || offsets.size() != 2) {
            throw new IOException(file + ": tensor " + name + " has shape " + shape + " and offsets " + offsets
                    + "; a model tensor is a vector or a matrix");
        }
        int rows = shape.size() == 2 ? shape.get(0).asInt() : 1;
        int cols = shape.get(shape.size() - 1).asInt();
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin || dataStart + end > size) {
            throw new IOException(file + ": tensor " + name + " lies at [" + begin + ", " + end
                    + ") past the end of the file's " + (size - dataStart) + " data bytes");
        }
        if (end - begin > Integer.MAX_VALUE) {
            throw new IOException(file + ": tensor " + name + " has " + (end - begin)
                    + " bytes, more than one mapping can hold (2 GiB)");
        }
        ByteBuffer bytes = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, end - begin);
        try {
            return new WeightTensor(name, kind, rows, cols, bytes);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
