package io.streaminfer.model.tokenizer;

import io.streaminfer.model.Checkpoints;
import io.streaminfer.model.Llama2cTokenizer;
import io.streaminfer.model.gguf.GgufVocabulary;
import io.streaminfer.model.TextTokenizer;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a tokenizer by its path, whatever its format: a Hugging Face tokenizer.json (or a model directory
 * holding one), a GGUF model file (its vocabulary) or a llama2.c {@code tokenizer.bin}.
 */
public final class TokenizerFiles {
    private TokenizerFiles() {
    }

    /**
     * @param llama2cVocabularySize entries of a llama2.c file to read (the model's vocabulary size); 0 reads
     *     every entry in the file. Ignored for tokenizer.json.
     * @throws IOException naming the file and what is wrong with it
     */
    public static TextTokenizer open(Path path, int llama2cVocabularySize) throws IOException {
        if (isHuggingFace(path)) {
            return HfTokenizer.load(path);
        }
        if (Checkpoints.detect(path) == Checkpoints.Format.GGUF) {
            return GgufVocabulary.read(path); // the vocabulary a GGUF model file carries
        }
        int size = llama2cVocabularySize > 0 ? llama2cVocabularySize : countLlama2cEntries(path);
        return Llama2cTokenizer.load(path, size);
    }

    /** Whether {@link #open} reads {@code path} as a llama2.c {@code tokenizer.bin} (neither JSON nor GGUF). */
    public static boolean isLlama2c(Path path) throws IOException {
        return !isHuggingFace(path) && Checkpoints.detect(path) != Checkpoints.Format.GGUF;
    }

    /** A directory (holding tokenizer.json) or a file whose first non-blank byte opens a JSON object. */
    public static boolean isHuggingFace(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return true;
        }
        try (InputStream in = Files.newInputStream(path)) {
            for (int b = in.read(); b >= 0; b = in.read()) {
                if (b == '{') {
                    return true;
                }
                if (b != ' ' && b != '\t' && b != '\n' && b != '\r' && b != 0xEF && b != 0xBB && b != 0xBF) {
                    return false;
                }
            }
            return false;
        }
    }

    /** How many entries a llama2.c tokenizer file holds: (float score, int length, bytes) until its end. */
    public static int countLlama2cEntries(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            int maxTokenLength = Integer.reverseBytes(in.readInt());
            if (maxTokenLength <= 0) {
                throw new IOException(file + ": not a llama2.c tokenizer (max_token_length " + maxTokenLength + ")");
            }
            int count = 0;
            while (true) {
                try {
                    in.readInt(); // score
                } catch (EOFException end) {
                    break;
                }
                int length = Integer.reverseBytes(in.readInt());
                if (length < 0 || length > maxTokenLength) {
                    throw new IOException(file + ": entry " + count + " has length " + length
                            + ", outside [0, max_token_length=" + maxTokenLength + "]: not a llama2.c tokenizer?");
                }
                in.readFully(new byte[length]);
                count++;
            }
            if (count == 0) {
                throw new IOException(file + ": not a llama2.c tokenizer (no entries)");
            }
            return count;
        } catch (EOFException e) {
            throw new IOException(file + ": ends inside an entry: not a llama2.c tokenizer?", e);
        }
    }
}
