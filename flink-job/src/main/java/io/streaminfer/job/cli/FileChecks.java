package io.streaminfer.job.cli;

import java.io.IOException;
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

    /**
     * A directory that exists or can be created, tried for real (permission bits say nothing to root, nor
     * about a read-only file system): a probe is created and deleted in it, or in its nearest existing
     * ancestor when it does not exist yet. Nothing is left behind.
     */
    public static Path writableDirectory(String flag, String value) {
        Path path = Path.of(value).toAbsolutePath();
        if (Files.exists(path) && !Files.isDirectory(path)) {
            throw new IllegalArgumentException(flag + ": is a file, expected a directory: " + value);
        }
        Path existing = path;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing)) {
            throw new IllegalArgumentException(flag + ": cannot create directory " + value + " ("
                    + (existing == null ? "no existing parent" : existing + " is a file") + ")");
        }
        try {
            Path probe = Files.createTempDirectory(existing, ".streaminfer-write-check-");
            Files.delete(probe);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(flag + ": cannot " + (existing.equals(path) ? "write into directory "
                    : "create directory ") + value + " (" + existing + ": " + reason(e) + ")", e);
        }
        return path;
    }

    private static String reason(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException fs) {
            // The exception's "message" is the probe's own path; say what it means instead.
            return fs.getReason() != null ? fs.getReason()
                    : e instanceof java.nio.file.NoSuchFileException ? "nothing can be created there"
                    : e.getClass().getSimpleName();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
