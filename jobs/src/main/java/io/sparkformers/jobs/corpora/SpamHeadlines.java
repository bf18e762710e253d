package io.sparkformers.jobs.corpora;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.train.TextDataset;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A headline-generation (summarisation) corpus from the SpamAssassin emails ({@link SpamAssassin}, fetched by npm on
 * first use): source = the readable body, target = the decoded Subject line, as {@link SpamAssassin#clean} cleans
 * text. Real, human-written pairs (mailing-list threads, newsletters, spam); subjects are short (a few words), so a
 * small model trained from scratch learns something measurable in minutes (list tags, "re", topic words quoted in
 * the body). Emails without a subject or a body are left out. Split as {@link SpamAssassin#isEval} (20 % by id), rows
 * in SpamAssassin's fixed pseudo-random order.
 */
public final class SpamHeadlines {

    private SpamHeadlines() {}

    /** The train or eval split as (id, body, subject) rows, first {@code limit} (all if negative). */
    public static TextDataset split(boolean eval, int limit) throws IOException {
        Path data = SpamAssassin.ensure(SpamAssassin.cacheDir()).resolve("data");
        List<TextDataset.Row> rows = new ArrayList<>();
        try (DirectoryStream<Path> groups = Files.newDirectoryStream(data, Files::isDirectory)) {
            for (Path g : groups) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(g, "*.json")) {
                    for (Path f : files) {
                        JsonNode n = Json.MAPPER.readTree(f.toFile());
                        String id =
                                n.path("group").asText() + "/" + n.path("id").asText();
                        if (SpamAssassin.isEval(id) != eval) continue;
                        String[] sb = SpamAssassin.subjectAndBody(n.path("text").asText());
                        if (sb[0].isEmpty() || sb[1].isEmpty()) continue;
                        rows.add(new TextDataset.Row(id, sb[1], sb[0], null));
                    }
                }
            }
        }
        List<TextDataset.Row> ordered = new ArrayList<>(rows);
        List<String> order = new ArrayList<>();
        for (SpamAssassin.Email e : SpamAssassin.load()) order.add(e.id());
        java.util.Map<String, Integer> rank = new java.util.HashMap<>();
        for (int i = 0; i < order.size(); i++) rank.put(order.get(i), i);
        ordered.sort(Comparator.comparingInt(r -> rank.get(r.id())));
        TextDataset ds = new TextDataset(
                "SpamAssassin headlines (" + SpamAssassin.PACKAGE + ") " + (eval ? "eval" : "train")
                        + " split: body -> subject",
                ordered);
        return ds.limit(limit);
    }
}
