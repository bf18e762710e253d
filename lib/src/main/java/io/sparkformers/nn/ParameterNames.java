package io.sparkformers.nn;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Checkpoint names from the block tree: the one place where DJL's child names ({@code "01encoder"}) become
 * Hugging Face's dotted names ({@code "encoder.layer.0.attention.self.query.weight"}). Loading and saving both
 * use it, so a name can never be spelled two ways.
 */
public final class ParameterNames {

    /** A parameter with its dotted HF name and the block that owns it directly. */
    public record Entry(String name, Block owner, Parameter parameter) {}

    private ParameterNames() {}

    /** Every parameter under {@code root} keyed by HF name, in module registration order (own parameters first). */
    public static Map<String, Entry> of(Block root) {
        Map<String, Entry> out = new LinkedHashMap<>();
        walk(root, "", out);
        return Collections.unmodifiableMap(out);
    }

    private static void walk(Block block, String prefix, Map<String, Entry> out) {
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
            out.put(prefix + p.getKey(), new Entry(prefix + p.getKey(), block, p.getValue()));
        }
        int i = 0;
        for (Pair<String, Block> child : block.getChildren()) {
            walk(child.getValue(), prefix + stripIndex(child.getKey(), ++i) + ".", out);
        }
    }

    /** DJL's {@code AbstractBlock.addChildBlock} names the n-th child {@code String.format("%02d%s", n, name)}. */
    static String stripIndex(String djlName, int position) {
        String index = String.format(Locale.ROOT, "%02d", position);
        if (!djlName.startsWith(index)) {
            throw new IllegalStateException("child '" + djlName + "' lacks DJL's index prefix '" + index + "'");
        }
        return djlName.substring(index.length());
    }
}
