package io.sparkformers.spark;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.StructType;

/**
 * HF {@code pipeline("translation")} as a Spark stage, on an encoder-decoder checkpoint (Marian, T5, BART-shaped):
 * each row's text ({@code inputCol}) → its translation ({@code translation_text}, HF's output name; an
 * {@code array<string>} with {@code numReturnSequences > 1}). With {@code srcLang} and {@code tgtLang} the stage runs
 * HF's {@code translation_<srcLang>_to_<tgtLang>} task, so T5 checkpoints get that task's prefix ("translate English
 * to German: ") and settings from the config's {@code task_specific_params}; without them it runs
 * {@code translation}, as a single-pair Marian checkpoint needs. On a multilingual Marian checkpoint (a vocabulary
 * holding {@code >>xx<<} target codes) {@code tgtLang} also puts its code before each text that does not start with
 * one (Spark NLP's MarianTransformer {@code langId}); HF's pipeline leaves that to the text. Generation Params:
 * {@link GenerationStage}.
 */
public final class Translator extends EncoderDecoderStage<Translator> {
    private static final long serialVersionUID = 1L;

    private final Param<String> srcLang;
    private final Param<String> tgtLang;

    public Translator(String uid) {
        super(uid, "translation_text");
        srcLang = new Param<>(
                this,
                "srcLang",
                "source language code as in HF's translation_xx_to_yy task names, e.g. en (letters and '-'; set with "
                        + "tgtLang; empty: the checkpoint's one pair)",
                (scala.Function1<String, Object>) Translator::isLanguage);
        tgtLang = new Param<>(
                this,
                "tgtLang",
                "target language code as in HF's translation_xx_to_yy task names, e.g. de (letters and '-'; set with "
                        + "srcLang; empty: the checkpoint's one pair)",
                (scala.Function1<String, Object>) Translator::isLanguage);
        setDefault(srcLang, "");
        setDefault(tgtLang, "");
    }

    public Translator() {
        this(Identifiable$.MODULE$.randomUID("translator"));
    }

    public static MLReader<Translator> read() {
        return StagePersistence.textReader(Translator.class);
    }

    public static Translator load(String path) {
        return read().load(path);
    }

    private static boolean isLanguage(String v) {
        return v != null && v.matches("[A-Za-z-]*");
    }

    public Param<String> srcLang() {
        return srcLang;
    }

    public Param<String> tgtLang() {
        return tgtLang;
    }

    public String getSrcLang() {
        return getOrDefault(srcLang);
    }

    public String getTgtLang() {
        return getOrDefault(tgtLang);
    }

    public Translator setSrcLang(String v) {
        set(srcLang, v);
        return this;
    }

    public Translator setTgtLang(String v) {
        set(tgtLang, v);
        return this;
    }

    /** {@code translation_<srcLang>_to_<tgtLang>}, or {@code translation} when neither is set. */
    @Override
    public String pipelineTask() {
        return getSrcLang().isEmpty() ? "translation" : "translation_" + getSrcLang() + "_to_" + getTgtLang();
    }

    @Override
    protected String targetLanguage() {
        return getTgtLang().isEmpty() ? null : getTgtLang();
    }

    @Override
    protected void validateInput(StructType schema) {
        if (getSrcLang().isEmpty() != getTgtLang().isEmpty()) {
            throw new IllegalArgumentException("srcLang and tgtLang are set together (got srcLang '" + getSrcLang()
                    + "', tgtLang '" + getTgtLang() + "'): set both, e.g. en and de, or neither");
        }
        super.validateInput(schema);
    }
}
