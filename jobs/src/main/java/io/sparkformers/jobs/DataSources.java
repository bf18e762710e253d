package io.sparkformers.jobs;

import io.sparkformers.jobs.config.FinetuneConfig;
import io.sparkformers.jobs.corpora.SpamAssassin;
import io.sparkformers.spark.DeltaLake;
import io.sparkformers.train.TextDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Labelled rows for the single-process Trainer, read with Spark: the job runs inside SparkSubmit, so a
 * {@link SparkSession} (the submit's master; {@code local[*]} by default) reads parquet, csv, tsv, JSON or Delta from any
 * Hadoop file system, checks the columns, and the first {@code limit} rows are collected to the driver, where the
 * library Trainer (Spark-free) trains. Training on the executors is the distributed trainer's job; here the rows
 * must fit in the driver. The source {@value FinetuneConfig#SPAM_ASSASSIN} needs no Spark: the npm corpus.
 */
final class DataSources {
    private DataSources() {}

    /**
     * Reads one source.
     *
     * @param eval for {@value FinetuneConfig#SPAM_ASSASSIN}: its eval split instead of train
     */
    static TextDataset read(String source, boolean eval, FinetuneConfig.Data d, int limit) throws IOException {
        return read(source, eval, d, limit, true);
    }

    /**
     * Reads one source; without {@code labels} (seq2seq: the target is text_pair_col) label_col is not read and may
     * be absent.
     */
    static TextDataset read(String source, boolean eval, FinetuneConfig.Data d, int limit, boolean labels)
            throws IOException {
        if (FinetuneConfig.SPAM_ASSASSIN.equals(source)) return SpamAssassin.split(eval, limit);
        String format = d.formatOf(source);
        if (!source.contains("://") && !Files.exists(Path.of(source))) {
            throw new IllegalArgumentException(
                    "data file " + source + " does not exist: check data." + (eval ? "eval" : "train"));
        }
        SparkSession spark = DeltaLake.configure(
                        SparkSession.builder().appName("sparkformers-finetune"), new SparkConf())
                .getOrCreate();
        Dataset<Row> df = switch (format) {
            case "parquet" -> spark.read().parquet(source);
            case "csv" ->
                spark.read()
                        .option("header", "true")
                        .option("multiLine", "true")
                        .option("escape", "\"")
                        .csv(source);
            case "tsv" ->
                spark.read().option("header", "true").option("sep", "\t").csv(source);
            case "json" ->
                spark.read().option("multiLine", startsWithBracket(source)).json(source);
            case "jsonl" -> spark.read().json(source);
            case "delta" -> {
                DeltaLake.require(spark, "data.format delta");
                yield spark.read().format("delta").load(source);
            }
            default -> throw new IllegalArgumentException("data.format '" + format + "' is not supported");
        };
        List<String> columns = Arrays.asList(df.columns());
        List<String> wanted = new ArrayList<>(List.of(d.textCol()));
        wanted.add(labels ? d.labelCol() : d.textCol()); // position 1: the label, or the text again (not used)
        if (d.textPairCol() != null) wanted.add(d.textPairCol());
        for (String c : wanted) {
            if (!columns.contains(c)) {
                String key =
                        c.equals(d.textCol()) ? "text_col" : c.equals(d.labelCol()) ? "label_col" : "text_pair_col";
                throw new IllegalArgumentException(
                        "column '" + c + "' is not in " + source + " (columns: " + columns + "): set data." + key);
            }
        }
        List<Column> select = new ArrayList<>();
        for (int k = 0; k < wanted.size(); k++) {
            Column c = functions.col(wanted.get(k));
            // an array, struct or map column (chat messages read from JSON lines) becomes its JSON text, not
            // Spark's "[{hi, user}]" rendering
            var type = df.schema().apply(wanted.get(k)).dataType();
            boolean nested = type instanceof org.apache.spark.sql.types.ArrayType
                    || type instanceof org.apache.spark.sql.types.StructType
                    || type instanceof org.apache.spark.sql.types.MapType;
            select.add((nested ? functions.to_json(c) : c.cast("string")).alias("c" + k));
        }
        Dataset<Row> rows = df.select(select.toArray(new Column[0]));
        if (limit >= 0) rows = rows.limit(limit);
        List<TextDataset.Row> out = new ArrayList<>();
        int i = 0;
        for (Row r : rows.collectAsList()) {
            out.add(new TextDataset.Row(
                    source + "#" + i++,
                    r.getString(0),
                    d.textPairCol() == null ? null : r.getString(2),
                    labels ? r.getString(1) : null));
        }
        return new TextDataset(format + " " + source + (limit >= 0 ? " (first " + limit + " rows)" : ""), out);
    }

    private static String startsWithBracket(String source) throws IOException {
        Path p = Path.of(source);
        if (!Files.isRegularFile(p)) return "false";
        try (var in = Files.newBufferedReader(p)) {
            int c;
            while ((c = in.read()) != -1) {
                if (!Character.isWhitespace(c)) return Boolean.toString(c == '[');
            }
        }
        return "false";
    }
}
