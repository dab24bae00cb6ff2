package io.streaminfer.job.cli;

import io.streaminfer.job.JobOptions;
import io.streaminfer.job.JobOptions.Flag;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Adds the flags of {@link JobOptions} to a picocli command (descriptions and defaults come from the
 * ConfigOptions, so help and config never disagree) and turns what was given into a Flink
 * {@link Configuration}, parsing each value with Flink's own type rules (e.g. {@code 10s}, {@code cuda}).
 */
public final class FlagBinder {
    private final Map<Flag, OptionSpec> specs = new LinkedHashMap<>();

    public FlagBinder(CommandSpec command, List<Flag> flags) {
        for (Flag flag : flags) {
            OptionSpec.Builder option = OptionSpec.builder(flag.name())
                    .paramLabel(flag.paramLabel())
                    .description(flag.help());
            if (flag.repeatable()) {
                option.type(List.class).auxiliaryTypes(String.class).arity("1");
            } else {
                option.type(String.class);
            }
            OptionSpec spec = option.build();
            command.addOption(spec);
            specs.put(flag, spec);
        }
    }

    /**
     * The options given on the command line (others keep their defaults).
     *
     * @throws IllegalArgumentException naming the flag whose value does not parse
     */
    public Configuration toConfiguration() {
        Configuration config = new Configuration();
        for (Map.Entry<Flag, OptionSpec> e : specs.entrySet()) {
            Flag flag = e.getKey();
            OptionSpec spec = e.getValue();
            Object value = spec.getValue();
            if (value == null || (value instanceof List<?> list && list.isEmpty())) {
                continue;
            }
            if (flag.option() == JobOptions.KAFKA_PROPERTIES) {
                config.set(JobOptions.KAFKA_PROPERTIES, keyValues(flag.name(), castList(value)));
            } else {
                setParsed(config, flag, (String) value);
            }
        }
        return config;
    }

    /** Clears what the last parse left, so that one command object can parse again (as tests do). */
    public void reset() {
        for (OptionSpec spec : specs.values()) {
            spec.setValue(spec.typeInfo().isMultiValue() ? new java.util.ArrayList<>() : null);
        }
    }

    private static <T> void setParsed(Configuration config, Flag flag, String raw) {
        @SuppressWarnings("unchecked")
        ConfigOption<T> option = (ConfigOption<T>) flag.option();
        if (raw.isBlank()) {
            throw new IllegalArgumentException(flag.name() + ": a value is required");
        }
        T parsed;
        try {
            parsed = Configuration.fromMap(Map.of(option.key(), raw)).get(option);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid value for " + flag.name() + ": '" + raw + "'"
                    + expected(option));
        }
        config.set(option, parsed);
    }

    private static String expected(ConfigOption<?> option) {
        Object d = option.hasDefaultValue() ? option.defaultValue() : null;
        if (d instanceof Integer) {
            return " (expected an integer)";
        }
        if (d instanceof java.time.Duration) {
            return " (expected a duration such as 10s or 500ms)";
        }
        if (d instanceof Enum<?> en) {
            return " (expected one of " + java.util.Arrays.toString(en.getDeclaringClass().getEnumConstants())
                    .toLowerCase(java.util.Locale.ROOT) + ")";
        }
        return "";
    }

    private static Map<String, String> keyValues(String flag, List<String> entries) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String entry : entries) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(flag + ": expected KEY=VALUE, got '" + entry + "'");
            }
            out.put(entry.substring(0, eq).trim(), entry.substring(eq + 1));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<String> castList(Object value) {
        return (List<String>) value;
    }
}
