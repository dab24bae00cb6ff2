package io.streaminfer.job.codec;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a file's bytes into JSON Lines lines, the one rule every reader of an input shares (the job's
 * source and the summary's count): a line ends at LF only, one CR right before the LF is dropped (CRLF
 * files), a bare CR stays in the line (JSON allows it as white space), a UTF-8 byte-order mark at the start
 * of the file is dropped, and the last line needs no LF. Lines are bytes, not text: decoding is the codec's
 * job, so undecodable bytes reach a dead letter unchanged. A line longer than {@code maxLineBytes} is
 * consumed to its end but keeps only its first {@code maxLineBytes} bytes, and says how long it was.
 * Not thread-safe.
 */
public final class LineSplitter {
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    /**
     * One line.
     *
     * @param number 1-based line number in the file
     * @param bytes the line without its LF (and CR), at most {@code maxLineBytes} of them
     * @param length the line's full length in bytes; more than {@code bytes.length} when it was cut
     */
    public record Line(long number, byte[] bytes, long length) {
        public boolean truncated() {
            return length > bytes.length;
        }

        /** Nothing but spaces, tabs and CRs (JSON's white space but LF). */
        public boolean blank() {
            for (byte b : bytes) {
                if (b != ' ' && b != '\t' && b != '\r') {
                    return false;
                }
            }
            return !truncated();
        }
    }

    private final InputStream in;
    private final int maxLineBytes;
    private final byte[] buffer = new byte[1 << 16];
    private int position;
    private int limit;
    private long lineNumber;
    private boolean atEnd;
    private byte[] line = new byte[256]; // the current line's kept bytes, (at most maxLineBytes + 4)

    public LineSplitter(InputStream in, int maxLineBytes) {
        if (maxLineBytes < 1) {
            throw new IllegalArgumentException("maxLineBytes must be >= 1, got " + maxLineBytes);
        }
        this.in = in;
        this.maxLineBytes = maxLineBytes;
    }

    /** The next line, or null at the end of the input. */
    public Line next() throws IOException {
        if (atEnd) {
            return null;
        }
        long length = 0;
        int kept = 0;
        int lastByte = -1;
        boolean sawAny = false;
        while (true) {
            if (position == limit && !fill()) {
                atEnd = true;
                if (!sawAny) {
                    return null;
                }
                break;
            }
            sawAny = true;
            int start = position;
            while (position < limit && buffer[position] != '\n') {
                position++;
            }
            int run = position - start;
            if (run > 0) {
                lastByte = buffer[position - 1];
                // keep up to the cap plus the 3 bytes of a BOM and 1 of a CR, which may be dropped below
                int keep = (int) Math.min(run, Math.max(0, maxLineBytes + 4L - kept));
                ensure(kept + keep);
                System.arraycopy(buffer, start, line, kept, keep);
                kept += keep;
                length += run;
            }
            if (position < limit) { // at the LF
                position++;
                break;
            }
        }
        lineNumber++;
        if (lastByte == '\r') { // CRLF: the CR before the LF goes with it
            length--;
            kept = (int) Math.min(kept, length);
        }
        int from = 0;
        if (lineNumber == 1 && kept >= 3 && Arrays.equals(line, 0, 3, BOM, 0, 3)) {
            from = 3;
            length -= 3;
        }
        int end = (int) Math.min(kept, from + (long) maxLineBytes);
        return new Line(lineNumber, Arrays.copyOfRange(line, from, end), length);
    }

    private boolean fill() throws IOException {
        int n;
        do {
            n = in.read(buffer, 0, buffer.length);
        } while (n == 0);
        if (n < 0) {
            return false;
        }
        position = 0;
        limit = n;
        return true;
    }

    private void ensure(int capacity) {
        if (capacity > line.length) {
            line = Arrays.copyOf(line, Math.max(capacity, line.length * 2));
        }
    }
}
