package io.sparkformers.train;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;

/**
 * Real English text every build has: the Apache License 2.0 as shipped in commons-compress's jar
 * ({@code META-INF/LICENSE.txt}, a dependency of lib), about 1,600 words.
 */
public final class RealText {
    private RealText() {}

    public static String apacheLicense() throws IOException {
        try {
            Path jar = Path.of(org.apache.commons.compress.archivers.ArchiveEntry.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            try (ZipFile zip = new ZipFile(jar.toFile());
                    InputStream in = zip.getInputStream(zip.getEntry("META-INF/LICENSE.txt"))) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
    }

    /** The license's paragraphs (blank-line separated), whitespace collapsed, short lines (headings) dropped. */
    public static List<String> paragraphs() throws IOException {
        List<String> out = new ArrayList<>();
        for (String p : apacheLicense().split("\\n\\s*\\n")) {
            String flat = p.strip().replaceAll("\\s+", " ");
            if (flat.split(" ").length >= 8) out.add(flat);
        }
        return out;
    }

    /**
     * Question-answer pairs made from the license's definitions by one rule: a paragraph {@code "X" [form] shall mean Y.}
     * gives the question {@code What does "X" mean?}, the paragraph as context, and Y up to its first comma or period
     * as the answer. Returns rows {question, context, answer}.
     */
    public static List<String[]> definitionQuestions() throws IOException {
        Pattern def = Pattern.compile("^\"([^\"]+)\"( form)?( \\(or \"[^\"]+\"\\))? shall mean ([^,.;]+)");
        List<String[]> out = new ArrayList<>();
        for (String p : paragraphs()) {
            Matcher m = def.matcher(p);
            if (m.find())
                out.add(new String[] {
                    "What does \"" + m.group(1) + "\" mean?", p, m.group(4).strip()
                });
        }
        return out;
    }
}
