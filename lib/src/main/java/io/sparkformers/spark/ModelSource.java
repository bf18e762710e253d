package io.sparkformers.spark;

import java.io.Serializable;

/**
 * A model reference as tasks receive it (see {@link ModelRefs#forExecutors}): the reference to load, and, when the
 * driver shipped the folder, the shipment that carries it.
 */
record ModelSource(String ref, ShippedModels.Shipment shipment) implements Serializable {

    /** A reference executors load as it is (a Hadoop URI; the driver's folder under a local master). */
    static ModelSource of(String ref) {
        return new ModelSource(ref, null);
    }

    /** On an executor: makes the shipment known to this JVM, then returns the reference to load. */
    String use() {
        if (shipment != null) ShippedModels.received(shipment);
        return ref;
    }
}
