package io.streaminfer.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streaminfer.job.convert.ChoiceMergeTest;
import io.streaminfer.schemas.CompletionRecord;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class SampleFanInTest {
    private static KeyedOneInputStreamOperatorTestHarness<String, CompletionRecord, CompletionRecord> harness()
            throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new SampleFanIn()),
                new SampleFanIn.PromptId(), Types.STRING);
    }

    private static List<CompletionRecord> emitted(
            KeyedOneInputStreamOperatorTestHarness<String, CompletionRecord, CompletionRecord> h) {
        return h.extractOutputValues();
    }

    @Test
    void emitsOnceAllSamplesArrivedAndKeepsThemAcrossARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.open();
            h.processElement(ChoiceMergeTest.sample(1, 3, true), 1);
            h.processElement(ChoiceMergeTest.sample(0, 3, true), 2);
            assertTrue(emitted(h).isEmpty(), "two of three samples: nothing yet");
            snapshot = h.snapshot(1, 3);
        }
        try (var h = harness()) {
            h.initializeState(snapshot);
            h.open();
            h.processElement(ChoiceMergeTest.sample(1, 3, true), 3); // replayed: counts once
            assertTrue(emitted(h).isEmpty());
            h.processElement(ChoiceMergeTest.sample(2, 3, true), 4);
            List<CompletionRecord> out = emitted(h);
            assertEquals(1, out.size());
            assertEquals("p", out.get(0).getId());
            assertEquals(3, out.get(0).getChoices().size());
            assertEquals(List.of(0, 1, 2), out.get(0).getChoices().stream().map(c -> c.getIndex()).toList());
            assertEquals(0, h.numKeyedStateEntries(), "the prompt's state is cleared");
        }
    }
}
