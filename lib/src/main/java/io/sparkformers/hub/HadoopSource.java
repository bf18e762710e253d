package io.sparkformers.hub;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * A checkpoint folder on a Hadoop FileSystem ({@code hdfs:}, {@code s3a:}, {@code abfs:}, {@code file:} …), read
 * through {@link FileSystem}. The only class of {@code hub} that touches Hadoop: {@link ModelCache} loads it for URIs
 * alone, so plain-Java users without Hadoop on the class path still load local folders, aliases and Hub ids.
 */
final class HadoopSource {
    private final String uri;
    private final FileSystem fs;
    private final org.apache.hadoop.fs.Path root;
    private final List<ModelCache.SourceFile> files;

    private HadoopSource(String uri, FileSystem fs, org.apache.hadoop.fs.Path root, List<ModelCache.SourceFile> files) {
        this.uri = uri;
        this.fs = fs;
        this.root = root;
        this.files = files;
    }

    /**
     * Lists the folder at {@code uri}; {@code conf} overrides the Hadoop configuration (credentials, {@code fs.*.impl}),
     * e.g. the {@code spark.hadoop.*} settings of a Spark job with the prefix removed.
     */
    static HadoopSource list(String uri, Map<String, String> conf) throws IOException {
        Configuration c = new Configuration();
        conf.forEach(c::set);
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(uri);
        FileSystem fs = root.getFileSystem(c);
        FileStatus status;
        try {
            status = fs.getFileStatus(root);
        } catch (FileNotFoundException e) {
            throw new IOException("model folder " + uri + " does not exist", e);
        } catch (org.apache.hadoop.security.AccessControlException e) {
            throw new IOException("model folder " + uri + " is not readable: " + e.getMessage(), e);
        }
        if (!status.isDirectory()) {
            throw new IOException(uri + " is not a folder; a model is a Hugging Face checkpoint folder holding "
                    + "config.json, model.safetensors and tokenizer.json");
        }
        root = status.getPath();
        String prefix = root.toUri().getPath();
        prefix = prefix.endsWith("/") ? prefix : prefix + "/";
        List<ModelCache.SourceFile> files = new ArrayList<>();
        try {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
            while (it.hasNext()) {
                LocatedFileStatus f = it.next();
                String path = f.getPath().toUri().getPath();
                if (!path.startsWith(prefix)) continue;
                files.add(new ModelCache.SourceFile(
                        path.substring(prefix.length()), f.getLen(), f.getModificationTime()));
            }
        } catch (org.apache.hadoop.security.AccessControlException e) {
            throw new IOException("model folder " + uri + " is not readable: " + e.getMessage(), e);
        }
        files.sort(Comparator.comparing(ModelCache.SourceFile::path));
        return new HadoopSource(uri, fs, root, List.copyOf(files));
    }

    String uri() {
        return uri;
    }

    List<ModelCache.SourceFile> files() {
        return files;
    }

    /** Copies one listed file to {@code target}. */
    void copy(ModelCache.SourceFile file, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        try (FSDataInputStream in = fs.open(new org.apache.hadoop.fs.Path(root, file.path()))) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
