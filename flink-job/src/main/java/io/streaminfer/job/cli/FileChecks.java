package io.streaminfer.job.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Checks of file arguments whose messages name the flag and the path. */
public final class FileChecks {
    private FileChecks() {}

    /** A flag that has no default must be given. */
    public static void requireGiven(String flag, String value) {
        if (value == null) {
            throw new IllegalArgumentException("missing " + flag);
        }
    }

    public static Path readableFile(String flag, String value) {
        Path path = Path.of(value);
        if (!Files.exists(path)) {
            throw new IllegalArgumentException(flag + ": no such file: " + value);
        }
        if (Files.isDirectory(path)) {
            throw new IllegalArgumentException(flag + ": is a directory, expected a file: " + value);
        }
        if (!Files.isReadable(path)) {
            throw new IllegalArgumentException(flag + ": cannot read " + value + " (permission denied)");
        }
        return path;
    }

    public static Path readableFileOrDirectory(String flag, String value) {
        Path path = Path.of(value);
        if (!Files.exists(path)) {
            throw new IllegalArgumentException(flag + ": no such file or directory: " + value);
        }
        if (!Files.isReadable(path)) {
            throw new IllegalArgumentException(flag + ": cannot read " + value + " (permission denied)");
        }
        return path;
    }

    /** A directory that exists or can be created: not a file, and its nearest existing ancestor is writable. */
    public static Path writableDirectory(String flag, String value) {
        Path path = Path.of(value).toAbsolutePath();
        if (Files.exists(path) && !Files.isDirectory(path)) {
            throw new IllegalArgumentException(flag + ": is a file, expected a directory: " + value);
        }
        Path existing = path;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing) || !Files.isWritable(existing)) {
            throw new IllegalArgumentException(flag + ": cannot create or write directory " + value);
        }
        return path;
    }
}
