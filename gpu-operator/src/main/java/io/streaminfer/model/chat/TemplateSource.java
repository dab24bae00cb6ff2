package io.streaminfer.model.chat;

import io.streaminfer.model.chat.CodeTokens.Group;
import io.streaminfer.model.chat.CodeTokens.Kind;
import io.streaminfer.model.chat.CodeTokens.Token;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.streaminfer.model.chat.CodeTokens.booleanComparisons;
import static io.streaminfer.model.chat.CodeTokens.endsOperand;
import static io.streaminfer.model.chat.CodeTokens.indexOfName;
import static io.streaminfer.model.chat.CodeTokens.isTestNot;
import static io.streaminfer.model.chat.CodeTokens.next;
import static io.streaminfer.model.chat.CodeTokens.notOperandEnd;
import static io.streaminfer.model.chat.CodeTokens.previous;
import static io.streaminfer.model.chat.CodeTokens.split;

/**
 * The pre-pass that turns a Jinja2 chat template into source that Jinjava parses to the same meaning. It splits the
 * template as Jinja2's lexer does; the code of each {@code {{ }}} and {@code {% %}} becomes tokens nested by
 * brackets, and these rewrites apply:
 * <ul>
 *   <li>string literals: Python's escapes ({@code \x41}, {@code \\u00e9}, {@code \v}; unknown ones kept) decoded,
 *       then written with the escapes Jinjava reads;</li>
 *   <li>slices {@code x[a:b:c]} (Jinjava cannot parse a step; Qwen3 writes {@code messages[::-1]}) become
 *       {@code x.__slice__(a, b, c)}, which {@link PythonMethods} answers;</li>
 *   <li>{@code not x is defined}, {@code not x['a'] == y}: Jinja2's {@code not} takes the whole comparison and
 *       test, Jinjava's binds tighter, so what it negates is put in parentheses;</li>
 *   <li>{@code ({...})}: Jinjava reads a parenthesized dict as a tuple, so the parentheses go;</li>
 *   <li>keyword arguments {@code f(k=a - 1)}: Jinjava binds {@code k=a} first, so the value is parenthesized.</li>
 * </ul>
 * Also as Jinja2 does: line breaks become {@code \n} and one trailing newline is dropped ({@code keep_trailing_newline}
 * is off). Text, comments and {@code {% raw %}} blocks pass through unchanged.
 */
final class TemplateSource {
    private static final Pattern RAW_START = Pattern.compile("\\{%([-+]?)\\s*raw\\s*(-%}\\s*|%})");
    private static final Pattern RAW_END = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*(\\+%}|-%}\\s*|%}\n?)");
    private static final Set<String> TWO_CHAR_OPERATORS = Set.of("==", "!=", "<=", ">=", "//", "**");

    private final String source;
    private final StringBuilder out = new StringBuilder();
    /** Text read since the last tag, not yet written: the next tag's whitespace control may strip its end. */
    private final StringBuilder text = new StringBuilder();
    private int pos;
    /** Whether the last tag's end took a line break with it: Jinja2's {@code line_starting}. */
    private boolean lineStarting = true;
    /** The open {@code for}, {@code if} and {@code filter} blocks, innermost first. */
    private final Deque<Block> blocks = new ArrayDeque<>();
    private int generated;
    private final Set<String> filters = new TreeSet<>();
    private final Set<String> tests = new TreeSet<>();

    /**
     * An open block. A loop knows what it iterates and where its tag was written, to collect its items into a
     * variable when it needs them ({@code items}); a filter block knows its filter.
     */
    private static final class Block {
        final String kind;
        final String target;
        final String sequence;
        final int tagStart;
        int tagEnd;
        String items;
        boolean hasElse;

        Block(String kind, String target, String sequence, int tagStart) {
            this.kind = kind;
            this.target = target;
            this.sequence = sequence;
            this.tagStart = tagStart;
        }
    }

    private TemplateSource(String source) {
        this.source = source;
    }

    /** The Jinjava source of a Jinja2 template, and the filters and tests that it names. */
    record Rewritten(String source, Set<String> filters, Set<String> tests) {
    }

    /** The Jinjava source for a Jinja2 template. */
    static Rewritten rewrite(String template) {
        String source = template.replace("\r\n", "\n").replace('\r', '\n');
        if (source.endsWith("\n")) {
            source = source.substring(0, source.length() - 1);
        }
        TemplateSource rewriter = new TemplateSource(source);
        return new Rewritten(rewriter.template(), Set.copyOf(rewriter.filters), Set.copyOf(rewriter.tests));
    }

    /**
     * Splits text from tags as Jinja2's lexer does and applies its whitespace control here, so that Jinjava (with
     * trimming off) sees none: {@code {%-}/{@code -%}} strip all whitespace, {@code trim_blocks} drops the line
     * break after a block or comment, {@code lstrip_blocks} the spaces before one at the start of a line;
     * {@code +} keeps them. Comments are dropped, raw blocks kept verbatim.
     */
    private String template() {
        while (pos < source.length()) {
            int open = nextTag(pos);
            if (open < 0) {
                text.append(source, pos, source.length());
                break;
            }
            text.append(source, pos, open);
            pos = open;
            Matcher raw = RAW_START.matcher(source).region(pos, source.length());
            if (raw.lookingAt()) {
                stripBefore(raw.group(1), true);
                flushText();
                pos = raw.end();
                lineStarting = raw.group().endsWith("\n");
                Matcher end = RAW_END.matcher(source);
                int stop = end.find(pos) ? end.start() : source.length();
                text.append(source, pos, stop);
                stripBefore(stop < source.length() ? end.group(1) : "", true);
                out.append("{% raw %}").append(text).append("{% endraw %}");
                text.setLength(0);
                pos = stop < source.length() ? end.end() : stop;
                lineStarting = pos > 0 && source.charAt(pos - 1) == '\n';
                continue;
            }
            char kind = source.charAt(pos + 1);
            pos += 2;
            String sign = pos < source.length() && (source.charAt(pos) == '-' || source.charAt(pos) == '+')
                    ? String.valueOf(source.charAt(pos++)) : "";
            stripBefore(sign, kind != '{');
            flushText();
            if (kind == '#') {
                int close = source.indexOf("#}", pos);
                close = close < 0 ? source.length() : close;
                char before = close > pos ? source.charAt(close - 1) : ' ';
                pos = Math.min(source.length(), close + 2);
                endTag(before == '-' ? "-" : before == '+' ? "+" : "", true);
                continue;
            }
            String terminator = kind == '{' ? "}}" : "%}";
            List<Object> code = items(terminator, '\0');
            String endSign = "";
            if (pos < source.length() && source.charAt(pos) != terminator.charAt(0)) {
                endSign = String.valueOf(source.charAt(pos++)); // the - or + right before the terminator
            }
            pos = Math.min(source.length(), pos + 2);
            if (kind == '{') {
                out.append("{{").append(emit(code)).append("}}");
            } else {
                blockTag(code);
            }
            endTag(endSign, kind == '%');
        }
        flushText();
        return out.toString();
    }

    /**
     * Writes a block tag, with what Jinjava lacks: each loop body starts with {@link HfExtensions.Iteration} (a fresh
     * scope per iteration); a loop filter ({@code for x in xs if c}) becomes a first loop that
     * collects the items; a loop's {@code {% else %}} (rendered when it ran no iteration) an {@code if} on the
     * collected items after it; {@code {% filter f %}...{% endfilter %}} a block {@code set} and {@code {{ v|f }}}.
     */
    private void blockTag(List<Object> code) {
        int first = next(code, 0);
        String name = first >= 0 && code.get(first) instanceof Token t && t.kind() == Kind.NAME ? t.text() : "";
        Block top = blocks.peek();
        switch (name) {
            case "for" -> {
                forTag(code, first);
                return;
            }
            case "if" -> blocks.push(new Block("if", null, null, -1));
            case "filter" -> {
                Block filter = new Block("filter", null, emit(code.subList(first + 1, code.size())).strip(), -1);
                filter.items = "__filter" + generated++;
                blocks.push(filter);
                out.append("{% set ").append(filter.items).append(" %}");
                return;
            }
            case "endif", "endfilter" -> {
                if (top != null && top.kind.equals(name.substring(3))) {
                    blocks.pop();
                    if (top.kind.equals("filter")) {
                        out.append("{% endset %}{{ ").append(top.items).append('|').append(top.sequence).append(" }}");
                        return;
                    }
                }
            }
            case "else" -> {
                if (top != null && top.kind.equals("for")) {
                    collect(top);
                    top.hasElse = true;
                    out.append("{% endfor %}{% if not ").append(top.items).append(" %}");
                    return;
                }
            }
            case "endfor" -> {
                if (top != null && top.kind.equals("for")) {
                    blocks.pop();
                    if (top.hasElse) {
                        out.append("{% endif %}");
                        return;
                    }
                }
            }
            default -> {
            }
        }
        out.append("{%").append(emit(code)).append("%}");
    }

    private void forTag(List<Object> code, int first) {
        int in = indexOfName(code, "in", first + 1);
        int filter = in < 0 ? -1 : indexOfName(code, "if", in + 1);
        if (in < 0) {
            out.append("{%").append(emit(code)).append("%}");
            return;
        }
        String target = emit(code.subList(first + 1, in)).strip();
        String sequence = emit(code.subList(in + 1, filter < 0 ? code.size() : filter)).strip();
        Block loop = new Block("for", target, sequence, out.length());
        if (filter < 0) {
            out.append("{% for ").append(target).append(" in ").append(sequence).append(" %}");
        } else {
            loop.items = "__loop" + generated++;
            String item = split(code.subList(first + 1, in), ",").size() > 1 ? "[" + target + "]" : target;
            out.append("{% set ").append(loop.items).append(" = [] %}{% for ").append(target).append(" in ")
                    .append(sequence).append(" %}{% if ").append(emit(code.subList(filter + 1, code.size())))
                    .append(" %}{% do ").append(loop.items).append(".append(").append(item)
                    .append(") %}{% endif %}{% endfor %}{% for ").append(target).append(" in ").append(loop.items)
                    .append(" %}");
        }
        loop.tagEnd = out.length();
        out.append("{% ").append(HfExtensions.Iteration.NAME).append(' ').append(target).append(" %}");
        blocks.push(loop);
    }

    /** Makes a loop iterate a variable holding its items, rewriting its tag (the innermost or the top one). */
    private void collect(Block loop) {
        if (loop.items == null) {
            loop.items = "__loop" + generated++;
            out.replace(loop.tagStart, loop.tagEnd, "{% set " + loop.items + " = " + loop.sequence + " %}{% for "
                    + loop.target + " in " + loop.items + " %}");
        }
    }

    /** {@code loop.previtem} / {@code loop.nextitem} (Jinjava has neither) as the items around the current one. */
    private String neighbour(String which) {
        Block loop = blocks.stream().filter(b -> b.kind.equals("for")).findFirst().orElse(null);
        if (loop == null) {
            return "loop." + which;
        }
        collect(loop);
        return which.equals("previtem") ? "(" + loop.items + "[loop.index0 - 1] if not loop.first else none)"
                : "(" + loop.items + "[loop.index0 + 1] if not loop.last else none)";
    }

    private int nextTag(int from) {
        for (int i = source.indexOf('{', from); i >= 0 && i + 1 < source.length(); i = source.indexOf('{', i + 1)) {
            char kind = source.charAt(i + 1);
            if (kind == '{' || kind == '%' || kind == '#') {
                return i;
            }
        }
        return -1;
    }

    /** Whitespace control on the text before a tag: {@code -} strips it all, else lstrip_blocks for blocks. */
    private void stripBefore(String sign, boolean block) {
        if (sign.equals("-")) {
            text.setLength(PythonStrings.rstrip(text.toString(), null).length());
        } else if (!sign.equals("+") && block) {
            int lineStart = text.lastIndexOf("\n") + 1;
            if ((lineStart > 0 || lineStarting) && lineStart < text.length()
                    && text.substring(lineStart).codePoints().allMatch(PythonStrings::isSpace)) {
                text.setLength(lineStart);
            }
        }
    }

    /** Whitespace control after a tag: {@code -} strips all whitespace, else trim_blocks one line break. */
    private void endTag(String sign, boolean block) {
        int start = pos;
        if (sign.equals("-")) {
            while (pos < source.length() && PythonStrings.isSpace(source.charAt(pos))) {
                pos++;
            }
        } else if (!sign.equals("+") && block && pos < source.length() && source.charAt(pos) == '\n') {
            pos++;
        }
        lineStarting = pos > start ? source.charAt(pos - 1) == '\n' : false;
    }

    private void flushText() {
        out.append(text);
        text.setLength(0);
    }

    /** Tokens up to the terminator at depth zero, or up to the {@code close} of the group being read. */
    private List<Object> items(String terminator, char close) {
        List<Object> items = new ArrayList<>();
        while (pos < source.length()) {
            char c = source.charAt(pos);
            if (terminator != null && (source.startsWith(terminator, pos) || (c == '-' || c == '+' && terminator.equals("%}"))
                    && source.startsWith(terminator, pos + 1))) {
                break;
            }
            if (c == close) {
                break;
            }
            int start = pos;
            if (Character.isWhitespace(c)) {
                while (pos < source.length() && PythonStrings.isSpace(source.charAt(pos))) {
                    pos++;
                }
                items.add(new Token(Kind.SPACE, source.substring(start, pos)));
            } else if (c == '\'' || c == '"') {
                StringBuilder literal = new StringBuilder();
                pos = StringLiterals.rewrite(source, pos, literal);
                items.add(new Token(Kind.STRING, literal.toString()));
            } else if (Character.isLetter(c) || c == '_') {
                while (pos < source.length() && (Character.isLetterOrDigit(source.charAt(pos)) || source.charAt(pos) == '_')) {
                    pos++;
                }
                items.add(new Token(Kind.NAME, source.substring(start, pos)));
            } else if (Character.isDigit(c)) {
                while (pos < source.length() && (Character.isLetterOrDigit(source.charAt(pos)) || source.charAt(pos) == '.'
                        || source.charAt(pos) == '_')) {
                    pos++;
                }
                items.add(new Token(Kind.NUMBER, source.substring(start, pos)));
            } else if (c == '(' || c == '[' || c == '{') {
                pos++;
                char closing = c == '(' ? ')' : c == '[' ? ']' : '}';
                List<Object> inner = items(null, closing);
                boolean closed = pos < source.length();
                pos += closed ? 1 : 0;
                items.add(new Group(c, inner, closed ? String.valueOf(closing) : ""));
            } else {
                int length = pos + 1 < source.length() && TWO_CHAR_OPERATORS.contains(source.substring(pos, pos + 2)) ? 2 : 1;
                pos += length;
                items.add(new Token(Kind.OPERATOR, source.substring(start, pos)));
            }
        }
        return items;
    }

    private String emit(List<Object> items) {
        items = booleanComparisons(items);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            Object item = items.get(i);
            if (item instanceof Token t && t.is(Kind.NAME, "not") && !endsOperand(previous(items, i))
                    && !(previous(items, i) instanceof Token p && p.is(Kind.NAME, "is"))) {
                int end = notOperandEnd(items, i + 1);
                if (next(items, i + 1) >= 0 && next(items, i + 1) < end) {
                    out.append("not (").append(emit(items.subList(i + 1, end))).append(')');
                    i = end - 1;
                    continue;
                }
            }
            if (item instanceof Token t && t.is(Kind.NAME, "loop") && i + 2 < items.size()
                    && items.get(i + 1) instanceof Token dot && dot.is(Kind.OPERATOR, ".")
                    && items.get(i + 2) instanceof Token n && (n.is(Kind.NAME, "previtem") || n.is(Kind.NAME, "nextitem"))) {
                out.append(neighbour(n.text()));
                i += 2;
                continue;
            }
            if (item instanceof Token t && t.kind() == Kind.NAME && previous(items, i) instanceof Token p) {
                if (p.is(Kind.OPERATOR, "|")) {
                    filters.add(t.text());
                } else if (p.is(Kind.NAME, "is") && !t.text().equals("not") || p.is(Kind.NAME, "not") && isTestNot(items, i)) {
                    tests.add(t.text());
                }
            }
            if (item instanceof Group g) {
                out.append(emitGroup(g, endsOperand(previous(items, i))));
            } else {
                out.append(((Token) item).text());
            }
        }
        return out.toString();
    }

    private String emitGroup(Group g, boolean afterOperand) {
        if (g.open() == '[' && afterOperand) {
            List<List<Object>> parts = split(g.items(), ":");
            if (parts.size() > 1) {
                StringBuilder call = new StringBuilder("." + PythonMethods.SLICE + "(");
                for (int i = 0; i < 3; i++) {
                    String part = i < parts.size() ? emit(parts.get(i)).strip() : "";
                    call.append(i > 0 ? ", " : "").append(part.isEmpty() ? "none" : part);
                }
                return call.append(')').toString();
            }
        }
        if (g.open() == '(' && afterOperand) {
            List<String> arguments = new ArrayList<>();
            for (List<Object> argument : split(g.items(), ",")) {
                arguments.add(keywordArgument(argument));
            }
            return "(" + String.join(",", arguments) + g.close();
        }
        List<Object> inside = g.items().stream().filter(v -> !(v instanceof Token t && t.kind() == Kind.SPACE)).toList();
        if (g.open() == '(' && inside.size() == 1 && inside.get(0) instanceof Group d && d.open() == '{') {
            return emit(g.items()); // Jinjava reads ({...}) as a one-element tuple; Jinja2 as the dict
        }
        return g.open() + emit(g.items()) + g.close();
    }

    /** {@code name=value} with a value of more than one token becomes {@code name=(value)}. */
    private String keywordArgument(List<Object> argument) {
        int name = next(argument, 0);
        int equals = name < 0 ? -1 : next(argument, name + 1);
        if (name < 0 || equals < 0 || !(argument.get(name) instanceof Token n && n.kind() == Kind.NAME)
                || !(argument.get(equals) instanceof Token e && e.is(Kind.OPERATOR, "="))) {
            return emit(argument);
        }
        List<Object> value = argument.subList(equals + 1, argument.size());
        long significant = value.stream().filter(v -> !(v instanceof Token t && t.kind() == Kind.SPACE)).count();
        if (significant <= 1) {
            return emit(argument);
        }
        return emit(argument.subList(0, equals + 1)) + "(" + emit(value) + ")";
    }






}
