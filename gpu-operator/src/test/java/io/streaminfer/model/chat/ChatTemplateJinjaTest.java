package io.streaminfer.model.chat;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Jinja2 that chat templates use and Jinjava 2.8.4 lacks or reads differently, one case at a time; each expected
 * text is what Python's Jinja2 3.1 (with trim_blocks, lstrip_blocks and Hugging Face's globals) renders, but for
 * booleans, which Python prints as True/False and both we and @huggingface/jinja as true/false.
 */
class ChatTemplateJinjaTest {
    private static final List<ChatMessage> CHAT = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"));

    private static String render(String template) {
        return render(template, Map.of());
    }

    private static String render(String template, Map<String, ?> extra) {
        return ChatTemplate.of(template, "<s>", "</s>").render(CHAT, true, extra);
    }

    @Test
    void raiseExceptionStopsTheRenderWithTheTemplatesMessage() {
        ChatTemplate template = ChatTemplate.of("{{ raise_exception('roles must alternate') }}"
                + "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", null, null);
        ChatTemplateException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(ChatTemplateException.class, () -> template.render(CHAT, false)));
        assertEquals("the chat template refused the conversation: roles must alternate", e.getMessage());
        assertEquals("roles must alternate", e.raisedMessage());
    }

    @Test
    void raiseExceptionInsideLoopsMacrosAndConditionsStopsToo() {
        String inLoop = "{% for m in messages %}{% if m.role == 'user' %}{{ raise_exception('no ' + m.role) }}"
                + "{% endif %}{{ m.content }}{% endfor %}";
        assertEquals("no user", assertThrows(ChatTemplateException.class, () -> render(inLoop)).raisedMessage());
        String inMacro = "{% macro check(x) %}{{ raise_exception('bad ' ~ x) }}{% endmacro %}a{{ check(1) }}b";
        assertEquals("bad 1", assertThrows(ChatTemplateException.class, () -> render(inMacro)).raisedMessage());
        String inSet = "{% set x = raise_exception('in set') %}after";
        assertEquals("in set", assertThrows(ChatTemplateException.class, () -> render(inSet)).raisedMessage());
    }

    @Test
    void engineErrorsFailTheRenderWithoutARaisedMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render("{{ 'abc'.no_such_method() }}"));
        assertNull(e.raisedMessage());
        assertTrue(e.getMessage().startsWith("the chat template failed on the conversation: "), e.getMessage());
        ChatTemplateException unknown = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{{ messages|no_such_filter }}{{ x is no_such_test }}", null, null));
        assertEquals("the chat template does not parse: no filter named 'no_such_filter'", unknown.getMessage());
        assertEquals("the chat template does not parse: no test named 'no_such_test'", assertThrows(
                ChatTemplateException.class, () -> ChatTemplate.of("{{ x is not no_such_test }}", null, null)).getMessage());
    }

    @Test
    void pythonStringMethodsHavePythonSemantics() {
        assertEquals("[ hi \n]", render("[{{ '\\n hi \\n\\n'.lstrip('\\n').rstrip('\\n') ~ '\\n' }}]"));
        assertEquals("[hi]", render("[{{ ' \\t hi \\u3000'.strip() }}]"));
        assertEquals("['a', '', 'b', '']", render("{{ 'a,,b,'.split(',') }}"));
        assertEquals("['a', 'b c ']", render("{{ ' a  b c '.split(none, 1) }}"));
        assertEquals("['a', 'b', 'c']", render("{{ '  a\\tb\\n c '.split() }}"));
        assertEquals("True|False|True", render("{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith('b') }}|"
                + "{{ 'abc'.startswith(('x', 'a')) }}").replace("true", "True").replace("false", "False"));
        assertEquals("Hello World-They'Re|HELLO|hello", render("{{ 'hello wORLD-they\\'re'.title() }}|"
                + "{{ 'hello'.upper() }}|{{ 'HeLLo'.lower() }}"));
        assertEquals("a-b-c|a-b,c", render("{{ 'a,b,c'.replace(',', '-') }}|{{ 'a,b,c'.replace(',', '-', 1) }}"));
        assertEquals("x.y", render("{{ '.'.join(['x', 'y']) }}"));
    }

    @Test
    void slicesWithStepsAndNegativeBounds() {
        assertEquals("Hi|Be brief.", render("{% for m in messages[::-1] %}{{ m.content }}{% if not loop.last %}|"
                + "{% endif %}{% endfor %}"));
        assertEquals("1|[2, 3]|[1, 2]|[1, 3]|[3, 1]|[]", render("{% set xs = [1, 2, 3] %}{{ xs[0] }}|{{ xs[1:] }}|"
                + "{{ xs[:-1] }}|{{ xs[::2] }}|{{ xs[::-2] }}|{{ xs[5:] }}"));
        assertEquals("🚀ba|a🚀", render("{{ 'ab🚀'[::-1] }}|{{ 'ab🚀'[::2] }}"));
        assertEquals("Be", render("{{ messages[0]['content'][:2] }}"));
    }

    @Test
    void tojsonIsPythonsJsonDumps() {
        Map<String, Object> tool = new java.util.LinkedHashMap<>();
        tool.put("name", "get_weather");
        tool.put("parameters", Map.of("city", "Köln"));
        tool.put("strict", true);
        tool.put("n", List.of(1, 2.5, 1e20));
        Map<String, ?> extra = Map.of("tool", tool);
        assertEquals("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Köln\"}, \"strict\": true, "
                + "\"n\": [1, 2.5, 1e+20]}", render("{{ tool|tojson }}", extra));
        assertEquals("{\n  \"name\": \"get_weather\",\n  \"parameters\": {\n    \"city\": \"Köln\"\n  },\n"
                + "  \"strict\": true,\n  \"n\": [\n    1,\n    2.5,\n    1e+20\n  ]\n}",
                render("{{ tool|tojson(indent=2) }}", extra));
        assertEquals("{\"city\":\"K\\u00f6ln\"}", render("{{ tool.parameters|tojson(ensure_ascii=true, "
                + "separators=(',', ':')) }}", extra));
        assertEquals("{\"a\": 1, \"b\": 2}", render("{{ {'b': 2, 'a': 1}|tojson(sort_keys=true) }}"));
        assertEquals("[{\"role\": \"system\", \"content\": \"Be brief.\"}]", render("{{ messages[:1]|tojson }}"));
    }

    @Test
    void strftimeNowReadsTheTemplatesClock() {
        Clock clock = Clock.fixed(Instant.parse("2024-07-26T08:04:05Z"), ZoneOffset.UTC);
        ChatTemplate template = ChatTemplate.of("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %-d, %Y %H:%M') }}"
                + "|{{ strftime_now is defined }}", null, null).withClock(clock);
        assertEquals("26 Jul 2024|July 26, 2024 08:04|true", template.render(CHAT, false));
    }

    @Test
    void loopControlsNamespaceLoopFilterAndElse() {
        assertEquals("12", render("{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}{% if i == 0 %}"
                + "{% continue %}{% endif %}{{ i }}{% endfor %}"));
        assertEquals("1", render("{% set ns = namespace(found=false, index=messages|length - 1) %}"
                + "{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% endfor %}"
                + "{{ ns.index if ns.found else -1 }}"));
        assertEquals("Hi(1/1)", render("{% for m in messages if m.role == 'user' %}{{ m.content }}"
                + "({{ loop.index }}/{{ loop.length }}){% endfor %}"));
        assertEquals("none", render("{% for m in messages if m.role == 'tool' %}{{ m.content }}{% else %}none"
                + "{% endfor %}"));
        assertEquals("systemuser", render("{% for m in messages %}{{ m.role }}{% else %}none{% endfor %}"));
    }

    @Test
    void eachIterationHasAFreshScopeAsInJinja2() {
        assertEquals("[U][outer][outer]|3", render("{% set role = 'outer' %}"
                + "{% for m in [{'role': 'user'}, {'role': 'system'}] %}{% if m.role == 'user' %}{% set role = 'U' %}"
                + "{% endif %}[{{ role }}]{% endfor %}[{{ role }}]|{% set ns = namespace(n=0) %}"
                + "{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"));
    }

    @Test
    void filterBlocksAndLoopNeighbours() {
        assertEquals("A2|[x]", render("{% filter upper %}a{{ messages|length }}{% endfilter %}|"
                + "{% set s %}{% filter trim %}  x  {% endfilter %}{% endset %}[{{ s }}]"));
        assertEquals("-<system>user;system<user>-;", render("{% for m in messages %}"
                + "{{ loop.previtem.role if loop.previtem else '-' }}<{{ m.role }}>"
                + "{{ loop.nextitem.role if loop.nextitem else '-' }};{% endfor %}"));
    }

    @Test
    void dictRoundItemsMaxMinAsJinja2() {
        assertEquals("{'a': 1, 'b': 'x'}|{\"a\": 1}|2.0|4.0|2.67|3.0|7", render("{{ dict(a=1, b='x') }}|"
                + "{{ dict(a=1)|tojson }}|{{ 2.5|round }}|{{ 3.5|round }}|{{ 2.675|round(2) }}|"
                + "{{ 2.1|round(method='ceil') }}|{{ 7|round }}"));
        assertEquals("x1y2|x=1", render("{% for item in {'x': 1, 'y': 2}.items() %}{{ item[0] }}{{ item[1] }}"
                + "{% endfor %}|{% for k, v in {'x': 1}|items %}{{ k }}={{ v }}{% endfor %}"));
        assertEquals("3|A|user", render("{{ [3, 1, 2]|max }}|{{ ['b', 'A', 'c']|min }}|"
                + "{{ (messages|max(attribute='role')).role }}"));
    }

    @Test
    void stringsAndMappingsAreIterableAsInPython() {
        assertEquals("True|True|False|True|True|False", render("{{ 'abc' is iterable }}|{{ {} is iterable }}|"
                + "{{ 3 is iterable }}|{{ 'abc' is sequence }}|{{ {'a': 1} is sequence }}|{{ none is iterable }}")
                .replace("true", "True").replace("false", "False"));
    }

    @Test
    void equalityWithBooleansIsPythons() {
        assertEquals("False|True|True|True|False|False|False|out|[False, 2]", render("{{ '' == false }}|"
                + "{{ '' != false }}|{{ 0 == false }}|{{ 1 == true }}|{{ none == false }}|{{ 'a' == true }}|"
                + "{% set y = s == false %}{{ y }}|{% if s and s != false %}in{% else %}out{% endif %}|"
                + "{{ [s == false, 2] }}", Map.of("s", "")).replace("true", "True").replace("false", "False"));
    }

    @Test
    void notBindsLooserThanTestsAndComparisons() {
        Map<String, ?> extra = Map.of("x", "user");
        assertEquals("False|True|True|False", render("{{ not x is defined }}|{{ not y is defined }}|"
                + "{{ not x == 'assistant' }}|{{ not x in ['user'] and true }}", extra)
                .replace("true", "True").replace("false", "False"));
    }

    @Test
    void whitespaceControlIsJinja2s() {
        // lstrip_blocks strips a block's indentation only at the start of a line, trim_blocks one newline after it
        assertEquals("  a\nb", render("{% if true %}\n  a\n  {% endif %}\nb\n  {#- note #}\n\n"));
        assertEquals("  a\nb\n\n", render("{% if true %}\n  a\n  {% endif %}\nb\n  {# note #}\n\n\n"));
        assertEquals("x    y", render("x{% if true %}    {% endif %}y"));
        assertEquals("xy", render("x   {%- if true -%}   \n  {% endif %}y"));
        assertEquals("a\n  b", render("a\n  {%+ if true %}b{% endif %}"));
        assertEquals("{{ raw }}", render("{% raw %}{{ raw }}{% endraw %}\n\n"));
        assertEquals("{{ raw }}\n", render("{% raw %}{{ raw }}{% endraw %}\n\n\n"));
    }

    @Test
    void stringLiteralsUsePythonEscapes() {
        assertEquals("A\u00e9\u000b\\d'\"", render("{{ '\\x41\\u00e9\\v\\d\\'\"' }}"));
    }

    @Test
    void generationBlocksRenderTheirBody() {
        assertEquals("<a>Hi</a>", render("{% for m in messages if m.role == 'user' %}<a>{% generation %}"
                + "{{ m.content }}{% endgeneration %}</a>{% endfor %}"));
    }
}
