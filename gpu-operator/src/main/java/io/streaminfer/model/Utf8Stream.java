package io.streaminfer.model;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 bytes arriving in pieces (one token's bytes at a time) to text: a character split over two pieces
 * comes out whole once its last byte arrives; malformed bytes become U+FFFD, as a whole decode would make
 * them. Not thread-safe.
 */
public final class Utf8Stream {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(16);

    /** Adds bytes; returns the characters they complete. */
    public String push(byte[] bytes) {
        if (pending.remaining() < bytes.length) {
            ByteBuffer bigger = ByteBuffer.allocate(pending.position() + bytes.length + 16);
            pending.flip();
            bigger.put(pending);
            pending = bigger;
        }
        pending.put(bytes);
        pending.flip();
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 1);
        CoderResult result = decoder.decode(pending, out, false);
        if (result.isOverflow()) {
            throw new IllegalStateException("UTF-8 output buffer too small");
        }
        pending.compact(); // keeps the bytes of an unfinished character
        out.flip();
        return out.toString();
    }

    /** Ends the stream: an unfinished character becomes U+FFFD. */
    public String finish() {
        pending.flip();
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 2);
        decoder.decode(pending, out, true);
        decoder.flush(out);
        decoder.reset();
        pending.clear();
        out.flip();
        return out.toString();
    }
}
