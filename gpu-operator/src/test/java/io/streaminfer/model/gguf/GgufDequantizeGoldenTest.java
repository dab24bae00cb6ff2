package io.streaminfer.model.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.streaminfer.compute.StorageKind;
import io.streaminfer.compute.WeightTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every tensor of the quantized GGUF files dequantizes to bitwise the floats of ggml's C reference
 * ({@code llama-quantize ... F32}, checked against gguf-py's numpy dequantization when the goldens were
 * made): SHA-256 of the row-major float32 bytes, and the first values for a readable failure.
 */
class GgufDequantizeGoldenTest {

    @Test
    void everyTensorDequantizesBitwiseAsGgmlDoes() throws Exception {
        JsonNode digests = GgufGoldens.json("dequantized.sha256.json");
        Map<StorageKind, Integer> checked = new EnumMap<>(StorageKind.class);
        for (Iterator<Map.Entry<String, JsonNode>> files = digests.fields(); files.hasNext(); ) {
            Map.Entry<String, JsonNode> file = files.next();
            try (GgufCheckpoint checkpoint = GgufCheckpoint.open(GgufGoldens.file(file.getKey() + ".gguf"))) {
                for (Iterator<Map.Entry<String, JsonNode>> it = file.getValue().fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> entry = it.next();
                    String where = file.getKey() + ": " + entry.getKey();
                    WeightTensor t = checkpoint.tensor(GgufCheckpoint.neutralName(entry.getKey()));
                    JsonNode expected = entry.getValue();
                    assertEquals(expected.get("type").asText(), t.kind().name(), where);
                    float[] values = t.toFloats();
                    JsonNode first = expected.get("first");
                    for (int i = 0; i < first.size(); i++) {
                        assertEquals((float) first.get(i).asDouble(), values[i], where + " element " + i);
                    }
                    ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
                    bytes.asFloatBuffer().put(values);
                    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
                    assertEquals(expected.get("sha256").asText(), sha, where);
                    checked.merge(t.kind(), 1, Integer::sum);
                }
            }
        }
        for (StorageKind kind : new StorageKind[] {StorageKind.Q8_0, StorageKind.Q4_0, StorageKind.Q4_K,
                StorageKind.Q6_K, StorageKind.F16, StorageKind.F32}) {
            assertEquals(true, checked.getOrDefault(kind, 0) > 0, kind + " tensors were checked: " + checked);
        }
    }
}
