package io.sparkformers.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SettingsTest {

    @Test
    void environmentNamesAreTheUpperSnakeCaseOfTheProperty() {
        assertEquals("SPARKFORMERS_HOME", Settings.environmentName("sparkformers.home"));
        assertEquals(
                "SPARKFORMERS_SPARSE_EMBEDDING_GRADIENTS",
                Settings.environmentName("sparkformers.sparseEmbeddingGradients"));
        assertEquals("SPARKFORMERS_ENCODER_LAYER_KERNEL", Settings.environmentName("sparkformers.encoderLayerKernel"));
    }

    @Test
    void aSystemPropertyIsReadAndOnlyFalseSwitchesOff() {
        String name = "sparkformers.settingsTestSwitch"; // SPARKFORMERS_SETTINGS_TEST_SWITCH is not in the environment
        try {
            assertNull(Settings.get(name));
            assertTrue(Settings.enabled(name));
            System.setProperty(name, " false ");
            assertEquals("false", Settings.get(name));
            assertFalse(Settings.enabled(name));
            System.setProperty(name, "true");
            assertTrue(Settings.enabled(name));
            System.setProperty(name, "  ");
            assertNull(Settings.get(name), "a blank property counts as unset");
        } finally {
            System.clearProperty(name);
        }
    }
}
