package io.streaminfer.model.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The code of one Jinja2 tag as {@link TemplateSource} reads it: tokens, nested by brackets into groups, and the
 * ways to look around them that the rewrites need.
 */
final class CodeTokens {
    private CodeTokens() {
    }

    static final Set<String> KEYWORDS = Set.of("and", "or", "not", "if", "elif", "else", "in", "is", "do", "print", "return");

    enum Kind { NAME, NUMBER, STRING, OPERATOR, SPACE }

    /** A token as it is to be written ({@code text} of a string literal is already rewritten). */
    record Token(Kind kind, String text) {
        boolean is(Kind k, String s) {
            return kind == k && text.equals(s);
        }
    }

    /** A bracketed group: its opening character, what is inside, its closing character (none if unclosed). */
    record Group(char open, List<Object> items, String close) {
    }

    static int indexOfName(List<Object> items, String name, int from) {
        for (int i = from; i < items.size(); i++) {
            if (items.get(i) instanceof Token t && t.is(Kind.NAME, name)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Where the operand of a unary {@code not} ends: Jinja2's {@code not} takes a whole comparison, and tests and
     * filters bind tighter still, so it reaches the next {@code and}, {@code or}, {@code if}, {@code else}, comma or
     * colon at its level.
     */
    static int notOperandEnd(List<Object> items, int from) {
        for (int i = from; i < items.size(); i++) {
            if (items.get(i) instanceof Token t && (t.kind() == Kind.NAME && Set.of("and", "or", "if", "else").contains(t.text())
                    || t.is(Kind.OPERATOR, ",") || t.is(Kind.OPERATOR, ":"))) {
                return i;
            }
        }
        return items.size();
    }

    /** Whether an item can end an operand: a name that is not a keyword, a literal, or a bracketed group. */
    static boolean endsOperand(Object item) {
        if (item instanceof Group) {
            return true;
        }
        if (!(item instanceof Token t)) {
            return false;
        }
        return t.kind() == Kind.NUMBER || t.kind() == Kind.STRING || t.kind() == Kind.NAME && !KEYWORDS.contains(t.text());
    }

    static Object previous(List<Object> items, int i) {
        for (int j = i - 1; j >= 0; j--) {
            if (!(items.get(j) instanceof Token t && t.kind() == Kind.SPACE)) {
                return items.get(j);
            }
        }
        return null;
    }

    /** Whether the {@code not} before item {@code i} is the one of {@code is not test}. */
    static boolean isTestNot(List<Object> items, int i) {
        int not = -1;
        for (int j = i - 1; j >= 0 && not < 0; j--) {
            if (!(items.get(j) instanceof Token t && t.kind() == Kind.SPACE)) {
                not = j;
            }
        }
        return not >= 0 && previous(items, not) instanceof Token p && p.is(Kind.NAME, "is");
    }

    static int next(List<Object> items, int from) {
        for (int j = from; j < items.size(); j++) {
            if (!(items.get(j) instanceof Token t && t.kind() == Kind.SPACE)) {
                return j;
            }
        }
        return -1;
    }

    static List<List<Object>> split(List<Object> items, String separator) {
        List<List<Object>> parts = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i) instanceof Token t && t.is(Kind.OPERATOR, separator)) {
                parts.add(items.subList(start, i));
                start = i + 1;
            }
        }
        parts.add(items.subList(start, items.size()));
        return parts;
    }
}
