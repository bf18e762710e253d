package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sparkformers.spark.FeatureExtractor;
import io.sparkformers.spark.TokenClassificationModel;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The predict command's defaults come from the stages' public constants, so building the command (every CLI call does)
 * loads no Spark ML stage; the constants are the stages' own defaults.
 */
class PredictCommandDefaultsTest {

    /** A fresh loader over this test's class path that says which classes it loaded itself. */
    static final class Isolated extends URLClassLoader {
        Isolated(URL[] urls) {
            super(urls, ClassLoader.getPlatformClassLoader());
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }
    }

    @Test
    void buildingTheCommandLoadsNoStage() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String p : System.getProperty("java.class.path").split(File.pathSeparator)) {
            urls.add(new File(p).toURI().toURL());
        }
        try (Isolated loader = new Isolated(urls.toArray(URL[]::new))) {
            Object command = loader.loadClass(PredictCommand.class.getName())
                    .getDeclaredConstructor()
                    .newInstance();
            assertNotNull(command);
            assertEquals(loader, command.getClass().getClassLoader(), "the command came from the fresh loader");
            for (String stage : List.of(
                    FeatureExtractor.class.getName(),
                    TokenClassificationModel.class.getName(),
                    "org.apache.spark.ml.param.Params")) {
                assertNull(loader.loaded(stage) ? stage : null, "building the command loaded " + stage);
            }
        }
    }

    @Test
    void theConstantsAreTheStagesDefaults() {
        assertEquals(new FeatureExtractor().getBatchSize(), new PredictCommand().batchSize);
        assertEquals(new TokenClassificationModel().getAggregationStrategy(), new PredictCommand().aggregationStrategy);
    }
}
