package io.sparkformers.hub;

import java.io.IOException;
import java.net.URI;
import java.util.Arrays;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * A local folder seen through a non-{@code file} scheme ({@code hdfslike:///…}), so tests exercise the path a real
 * {@code hdfs:}/{@code s3a:} URI takes: scheme lookup via {@code fs.<scheme>.impl}, remote listing and streams.
 * Statuses are plain {@link FileStatus} values, as a remote store returns them (the local ones read permissions
 * lazily through {@code java.io.File}, which only accepts {@code file:} URIs).
 */
public class HdfsLikeFileSystem extends RawLocalFileSystem {
    static final String SCHEME = "hdfslike";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public FileStatus getFileStatus(Path p) throws IOException {
        return plain(super.getFileStatus(p));
    }

    @Override
    public FileStatus[] listStatus(Path p) throws IOException {
        return Arrays.stream(super.listStatus(p)).map(HdfsLikeFileSystem::plain).toArray(FileStatus[]::new);
    }

    private static FileStatus plain(FileStatus s) {
        return new FileStatus(s.getLen(), s.isDirectory(), 1, s.getBlockSize(), s.getModificationTime(), s.getPath());
    }
}
