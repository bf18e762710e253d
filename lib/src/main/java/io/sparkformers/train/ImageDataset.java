package io.sparkformers.train;

import io.sparkformers.vision.RgbImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntUnaryOperator;

/**
 * Labelled images for the {@link Trainer} ({@link TrainingTask#imageClassification}), the image counterpart of
 * {@link TextDataset}: image {@code i} (decoded on demand, so 60,000 Fashion-MNIST images stay 47 MB of bytes) and
 * its class id into {@link #labels()}. Views
 * ({@link #limit}, {@link #relabel}) share the underlying images.
 */
public interface ImageDataset extends TrainingDataset {

    /** Where the images come from, for logs and provenance. */
    String description();

    int size();

    /** Image {@code i} (0-based) as 8-bit RGB. */
    RgbImage image(int i);

    /** The class id of image {@code i}: an index into {@link #labels()}. */
    int label(int i);

    /** Class names by id (the model's {@code id2label}). */
    List<String> labels();

    /** Images {@code source.image(i)} for i in 0..ids.length, decoded on demand, with class ids into {@code labelNames}. */
    static ImageDataset of(String description, Source source, int[] ids, List<String> labelNames) {
        int[] index = new int[ids.length];
        for (int i = 0; i < index.length; i++) {
            index[i] = i;
            if (ids[i] < 0 || ids[i] >= labelNames.size()) {
                throw new IllegalArgumentException(description + ": image " + i + " has label " + ids[i] + " but the "
                        + labelNames.size() + " classes are " + labelNames + ": labels must be ids 0.."
                        + (labelNames.size() - 1));
            }
        }
        return new View(description, source, index, ids.clone(), labelNames);
    }

    /** Decoded images with class ids into {@code labelNames}. */
    static ImageDataset of(String description, List<RgbImage> images, List<Integer> labels, List<String> labelNames) {
        if (images.size() != labels.size()) {
            throw new IllegalArgumentException(
                    description + ": " + images.size() + " images but " + labels.size() + " labels");
        }
        List<RgbImage> copy = List.copyOf(images);
        int[] index = new int[copy.size()];
        int[] ids = new int[copy.size()];
        for (int i = 0; i < index.length; i++) {
            index[i] = i;
            Integer id = labels.get(i);
            if (id == null || id < 0 || id >= labelNames.size()) {
                throw new IllegalArgumentException(description + ": image " + i + " has label " + id + " but the "
                        + labelNames.size() + " classes are " + labelNames + ": labels must be ids 0.."
                        + (labelNames.size() - 1));
            }
            ids[i] = id;
        }
        return new View(description, copy::get, index, ids, labelNames);
    }

    /** The first {@code n} images (all when n is at least the size). */
    default ImageDataset limit(int n) {
        if (n >= size()) return this;
        if (n <= 0) throw new IllegalArgumentException("limit must be > 0 but was " + n);
        return relabel(
                description() + " (first " + n + ")",
                new IntUnaryOperator() {
                    private int seen;

                    @Override
                    public int applyAsInt(int id) {
                        return seen++ < n ? id : -1;
                    }
                },
                labels());
    }

    /**
     * A new task over the same images: {@code map} turns each old class id into a new one, or -1 to drop the image
     * (e.g. keep Fashion-MNIST classes 5–9 as 0–4, or fold ten classes into "top", "bottom", "shoe"). Images keep
     * their order.
     */
    default ImageDataset relabel(String description, IntUnaryOperator map, List<String> newLabels) {
        List<Integer> keep = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            int id = map.applyAsInt(label(i));
            if (id < 0) continue;
            if (id >= newLabels.size()) {
                throw new IllegalArgumentException("relabel maps class " + label(i) + " to " + id + " but there are "
                        + newLabels.size() + " new classes " + newLabels);
            }
            keep.add(i);
            ids.add(id);
        }
        if (keep.isEmpty()) throw new IllegalArgumentException(description + ": no image is left after relabelling");
        ImageDataset base = this;
        return new View(
                description,
                base::image,
                keep.stream().mapToInt(Integer::intValue).toArray(),
                ids.stream().mapToInt(Integer::intValue).toArray(),
                newLabels);
    }

    /** Images {@code source.image(index[i])} with class ids {@code ids[i]}. */
    record View(String description, Source source, int[] index, int[] ids, List<String> labels)
            implements ImageDataset {
        public View {
            Objects.requireNonNull(description, "description");
            labels = List.copyOf(labels);
            if (labels.isEmpty()) throw new IllegalArgumentException(description + ": no class names");
        }

        @Override
        public int size() {
            return index.length;
        }

        @Override
        public RgbImage image(int i) {
            return source.image(index[i]);
        }

        @Override
        public int label(int i) {
            return ids[i];
        }
    }

    /** Random access to images. */
    @FunctionalInterface
    interface Source {
        RgbImage image(int i);
    }
}
