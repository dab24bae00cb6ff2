package io.streaminfer.job.codec;

import java.util.Locale;
import org.apache.avro.Schema;

/** Tells a typo of a known field ({@code max_token}, {@code topP}) from an extra column ({@code label}). */
final class FieldNames {
    private FieldNames() {}

    /**
     * The schema field that {@code name} most likely misspells: equal to it but for case, {@code -} and
     * {@code _}, or (names of 5 characters or more) one insertion, deletion or substitution away; else null.
     */
    static String nearMiss(String name, Schema schema) {
        String normalized = normalize(name);
        for (Schema.Field field : schema.getFields()) {
            if (normalize(field.name()).equals(normalized)
                    || (name.length() >= 5 && oneEditApart(name, field.name()))) {
                return field.name();
            }
        }
        return null;
    }

    private static String normalize(String name) {
        return name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    }

    private static boolean oneEditApart(String a, String b) {
        if (Math.abs(a.length() - b.length()) > 1 || a.equals(b)) {
            return false;
        }
        int i = 0;
        while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        int ja = a.length() - 1;
        int jb = b.length() - 1;
        while (ja >= i && jb >= i && a.charAt(ja) == b.charAt(jb)) {
            ja--;
            jb--;
        }
        return ja - i < 1 && jb - i < 1; // at most one character differs, is added or removed
    }
}
