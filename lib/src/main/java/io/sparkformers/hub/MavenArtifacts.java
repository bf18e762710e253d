package io.sparkformers.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * Finds a jar in the local Maven repository and, when it is absent, asks the {@code mvn} client to fetch it.
 * Real pretrained weights reach this machine only inside Maven artifacts (see README, "Models"), so the Maven client
 * — with whatever mirror and proxy the user configured for it — is our download channel; we never name a host.
 */
public final class MavenArtifacts {
    private static final System.Logger LOG = System.getLogger(MavenArtifacts.class.getName());

    private MavenArtifacts() {}

    /** Coordinates {@code groupId:artifactId:version} of a plain jar. */
    public record Coordinates(String groupId, String artifactId, String version) {
        public static Coordinates parse(String gav) {
            String[] p = gav.split(":");
            if (p.length != 3)
                throw new IllegalArgumentException("expected groupId:artifactId:version, got '" + gav + "'");
            return new Coordinates(p[0], p[1], p[2]);
        }

        public Path pathIn(Path repository) {
            return repository
                    .resolve(groupId.replace('.', '/'))
                    .resolve(artifactId)
                    .resolve(version)
                    .resolve(artifactId + "-" + version + ".jar");
        }

        @Override
        public String toString() {
            return groupId + ":" + artifactId + ":" + version;
        }
    }

    /**
     * The local repository, found as Maven finds it: {@code -Dmaven.repo.local}; else {@code <localRepository>} of the
     * user's {@code ~/.m2/settings.xml}, then of the global {@code $MAVEN_HOME/conf/settings.xml}
     * ({@code ${user.home}} and {@code ${env.NAME}} expanded); else {@code ~/.m2/repository}. {@code ~} is the JVM's
     * {@code user.home}, as for Maven itself.
     */
    public static Path localRepository() {
        String configured = System.getProperty("maven.repo.local");
        if (configured != null && !configured.isBlank()) return Path.of(configured);
        Path userHome = Path.of(System.getProperty("user.home"));
        List<Path> settings = new ArrayList<>(List.of(userHome.resolve(".m2").resolve("settings.xml")));
        String mavenHome = System.getenv("MAVEN_HOME");
        if (mavenHome != null && !mavenHome.isBlank()) settings.add(Path.of(mavenHome, "conf", "settings.xml"));
        for (Path file : settings) {
            String fromSettings = settingsLocalRepository(file);
            if (fromSettings != null) return Path.of(fromSettings);
        }
        return userHome.resolve(".m2").resolve("repository");
    }

    /** {@code <localRepository>} of a settings file, expanded; null when the file or the element is absent. */
    static String settingsLocalRepository(Path settingsXml) {
        if (!Files.isRegularFile(settingsXml)) return null;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            Document doc = f.newDocumentBuilder().parse(settingsXml.toFile());
            NodeList top = doc.getDocumentElement().getChildNodes();
            for (int i = 0; i < top.getLength(); i++) {
                Node n = top.item(i);
                if (n.getNodeType() == Node.ELEMENT_NODE
                        && "localRepository".equals(n.getLocalName() != null ? n.getLocalName() : n.getNodeName())) {
                    String v = expand(n.getTextContent().trim());
                    return v.isEmpty() ? null : v;
                }
            }
            return null;
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new IllegalStateException(
                    "cannot read Maven settings " + settingsXml + ": " + e.getMessage()
                            + " (fix the file, or pass -Dmaven.repo.local=<folder>)",
                    e);
        }
    }

    private static String expand(String value) {
        Matcher m = PROPERTY.matcher(value);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String v = name.startsWith("env.") ? System.getenv(name.substring(4)) : System.getProperty(name);
            m.appendReplacement(sb, Matcher.quoteReplacement(v != null ? v : m.group()));
        }
        return m.appendTail(sb).toString();
    }

    private static final Pattern PROPERTY = Pattern.compile("\\$\\{([^}]+)}");

    /** The jar in the local repository, fetched with {@code mvn dependency:get} first if it is not there yet. */
    public static Path resolve(Coordinates coords) throws IOException {
        Path jar = coords.pathIn(localRepository());
        if (Files.isRegularFile(jar)) return jar;
        List<String> cmd = new ArrayList<>(
                List.of("mvn", "-B", "-q", "dependency:get", "-Dtransitive=false", "-Dartifact=" + coords));
        if (System.getProperty("maven.repo.local") != null) cmd.add("-Dmaven.repo.local=" + localRepository());
        LOG.log(System.Logger.Level.INFO, "fetching {0} with mvn dependency:get into {1}", coords, localRepository());
        Process p;
        try {
            p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            throw new IOException(
                    "cannot fetch " + coords + ": the Maven client 'mvn' is not on the PATH (" + e.getMessage()
                            + "). Install Maven, or copy the jar to " + jar,
                    e);
        }
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("fetching " + coords + " with mvn took over 30 minutes; giving up");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + coords, e);
        }
        if (p.exitValue() != 0 || !Files.isRegularFile(jar)) {
            throw new IOException("mvn could not fetch " + coords + " (exit " + p.exitValue() + "); run `"
                    + String.join(" ", cmd) + "` to see why (network, mirror settings in ~/.m2/settings.xml)");
        }
        return jar;
    }
}
