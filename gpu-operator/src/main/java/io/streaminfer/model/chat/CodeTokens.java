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

    /**
     * {@code x == false}, {@code x != true}: Jinjava (as EL does) turns the other side into a boolean first, so
     * {@code '' == false} holds; Python's {@code ==} does not. Such comparisons become {@code __py_eq(x, false)}.
     */
    static List<Object> booleanComparisons(List<Object> items) {
        for (int op = 0; op < items.size(); op++) {
            if (!(items.get(op) instanceof Token t && (t.is(Kind.OPERATOR, "==") || t.is(Kind.OPERATOR, "!=")))) {
                continue;
            }
            int before = previousIndex(items, op);
            int after = next(items, op + 1);
            if (!(isBooleanLiteral(items, before) || isBooleanLiteral(items, after))) {
                continue;
            }
            int start = op;
            while (start > 0 && !isComparisonBoundary(items.get(start - 1))) {
                start--;
            }
            int end = op + 1;
            while (end < items.size() && !isComparisonBoundary(items.get(end))) {
                end++;
            }
            List<Object> arguments = new ArrayList<>(items.subList(start, op));
            arguments.add(new Token(Kind.OPERATOR, ","));
            arguments.addAll(items.subList(op + 1, end));
            List<Object> rewritten = new ArrayList<>(items.subList(0, start));
            rewritten.add(new Token(Kind.SPACE, " "));
            if (t.is(Kind.OPERATOR, "!=")) {
                rewritten.add(new Token(Kind.NAME, "not"));
                rewritten.add(new Token(Kind.SPACE, " "));
            }
            rewritten.add(new Token(Kind.NAME, HfExtensions.PY_EQ));
            rewritten.add(new Group('(', arguments, ")"));
            rewritten.add(new Token(Kind.SPACE, " "));
            rewritten.addAll(items.subList(end, items.size()));
            return booleanComparisons(rewritten);
        }
        return items;
    }

    static boolean isBooleanLiteral(List<Object> items, int i) {
        return i >= 0 && items.get(i) instanceof Token t && t.kind() == Kind.NAME
                && Set.of("true", "false", "True", "False").contains(t.text());
    }

    /** What ends a comparison's operand: a keyword, an assignment, a comma or colon, another comparison. */
    static boolean isComparisonBoundary(Object item) {
        return item instanceof Token t && (t.kind() == Kind.NAME && KEYWORDS.contains(t.text())
                || t.kind() == Kind.OPERATOR && Set.of("=", ",", ":", "==", "!=", "<", ">", "<=", ">=").contains(t.text()));
    }

    static int previousIndex(List<Object> items, int i) {
        for (int j = i - 1; j >= 0; j--) {
            if (!(items.get(j) instanceof Token t && t.kind() == Kind.SPACE)) {
                return j;
            }
        }
        return -1;
    }
}
