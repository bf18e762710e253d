package io.sparkformers.hub;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A parsed model reference, the string users pass as {@code --model}. Parsing order, first match wins:
 * <ol>
 *   <li>a URI with a scheme ({@code hdfs://…}, {@code s3a://…}, {@code abfs://…}, {@code file:/…}): a Hadoop
 *       FileSystem folder;</li>
 *   <li>an existing local path, or one written as a path ({@code /…}, {@code ./…}, {@code ../…}): a local folder;</li>
 *   <li>a name a {@link ModelAliases} provider knows: an alias;</li>
 *   <li>{@code org/name} or {@code org/name@revision} following the Hub's repo id grammar (word characters,
 *       {@code -} and {@code .}, no {@code --} or {@code ..}, at most 96 characters): a Hub id.</li>
 * </ol>
 * Anything else is an {@link IllegalArgumentException} naming the reference and the accepted forms.
 */
public sealed interface ModelRef {

    /** What the user may write, for error messages. */
    String ACCEPTED_FORMS = "a local folder (/path, ./path), a Hadoop FileSystem URI (hdfs://…, s3a://…, abfs://…, "
            + "file:/…), a built-in alias, or a Hugging Face Hub id org/name[@revision]";

    /** A folder on this machine. */
    record LocalFolder(Path path) implements ModelRef {}

    /** A folder on any Hadoop FileSystem, as a URI with a scheme. */
    record HadoopUri(String uri) implements ModelRef {}

    /** A name resolved by a {@link ModelAliases} provider. */
    record Alias(String name) implements ModelRef {}

    /**
     * A Hub repository at a revision.
     *
     * @param repoId   {@code org/name}
     * @param revision branch, tag or commit sha ({@code main} when the reference has no {@code @revision})
     */
    record HubId(String repoId, String revision) implements ModelRef {
        @Override
        public String toString() {
            return repoId + "@" + revision;
        }
    }

    /** Two or more letters then ':' — one letter would be a Windows drive, never a Hadoop scheme. */
    Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:.*");

    Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?");
    Pattern REVISION = Pattern.compile("[A-Za-z0-9_.][A-Za-z0-9_./-]*");
    int MAX_REPO_ID_LENGTH = 96;

    /** Parses {@code ref}; {@code isAlias} says which bare names are aliases. */
    static ModelRef parse(String ref, Predicate<String> isAlias, List<String> aliasNames) {
        if (ref == null || ref.isBlank()) throw malformed(ref, "it is empty");
        String r = ref.strip();
        if (SCHEME.matcher(r).matches()) return new HadoopUri(r);
        Path local;
        try {
            local = Path.of(r);
        } catch (InvalidPathException e) {
            throw malformed(ref, e.getReason());
        }
        if (Files.exists(local)
                || r.startsWith("/")
                || r.startsWith("./")
                || r.startsWith("../")
                || r.equals(".")
                || r.equals("..")) {
            return new LocalFolder(local);
        }
        if (!r.contains("/") && !r.contains("@") && isAlias.test(r)) return new Alias(r);
        String repoId = r;
        String revision = "main";
        int at = r.indexOf('@');
        if (at >= 0) {
            repoId = r.substring(0, at);
            revision = r.substring(at + 1);
            if (repoId.isEmpty()) throw malformed(ref, "nothing before '@' (write org/name@revision)");
            if (revision.isEmpty()) throw malformed(ref, "nothing after '@' (name a branch, tag or commit)");
            if (!REVISION.matcher(revision).matches() || revision.contains("..")) {
                throw malformed(ref, "'" + revision + "' is not a valid revision");
            }
        }
        String[] parts = repoId.split("/", -1);
        if (parts.length == 1 && at < 0 && SEGMENT.matcher(repoId).matches()) {
            throw new IllegalArgumentException("unknown model '" + ref + "': not a local folder, not a built-in alias "
                    + "(aliases: " + String.join(", ", aliasNames) + "), and not a Hub id (those are org/name)");
        }
        if (parts.length != 2) {
            throw malformed(ref, "a Hub id has exactly one '/' (org/name), found " + (parts.length - 1));
        }
        for (String p : parts) {
            if (!SEGMENT.matcher(p).matches() || p.contains("--") || p.contains("..")) {
                throw malformed(
                        ref,
                        "'" + p + "' is not a valid Hub org or repo name (letters, digits, '_', '-', '.'; "
                                + "no '--' or '..'; starting and ending with a letter or digit)");
            }
        }
        if (repoId.length() > MAX_REPO_ID_LENGTH) {
            throw malformed(ref, "a Hub id has at most " + MAX_REPO_ID_LENGTH + " characters");
        }
        return new HubId(repoId, revision);
    }

    private static IllegalArgumentException malformed(String ref, String why) {
        return new IllegalArgumentException("malformed model reference '" + (ref == null ? "" : ref) + "': " + why
                + "; expected " + ACCEPTED_FORMS);
    }
}
