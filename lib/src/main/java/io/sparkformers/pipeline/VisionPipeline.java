package io.sparkformers.pipeline;

import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.vision.VisionModel;
import io.sparkformers.vision.ImageProcessor;

/**
 * What the image pipelines ({@link ImageClassificationPipeline}, {@link ImageFeatureExtractionPipeline}) share: a
 * vision model, its processor and the manager batches are scoped under, and the loaded checkpoint they close when
 * they own it ({@code fromPretrained}); over a model the caller gave, closing the pipeline closes nothing.
 */
abstract class VisionPipeline implements AutoCloseable {

    final VisionModel model;
    final ImageProcessor processor;
    final NDManager manager;
    private final AutoCloseable owner;

    /** @param owner what {@link #close} closes (the loaded checkpoint), null when the caller owns the model */
    VisionPipeline(VisionModel model, ImageProcessor processor, NDManager manager, AutoCloseable owner) {
        this.model = model;
        this.processor = processor;
        this.manager = manager;
        this.owner = owner;
    }

    @Override
    public void close() throws Exception {
        if (owner != null) owner.close();
    }
}
