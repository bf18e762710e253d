package io.sparkformers.hub;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A lock held by one thread of one JVM on this host at a time: a {@link FileLock} on a lock file excludes other JVMs,
 * and because a {@code FileLock} belongs to the whole JVM (a second {@code lock()} from another thread throws
 * {@code OverlappingFileLockException}), threads of this JVM first queue on an in-memory lock per file.
 * Lock files are never deleted: deleting one while another process waits on it would let two holders in.
 */
final class HostLock {
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();

    @FunctionalInterface
    interface IoSupplier<T> {
        T get() throws IOException;
    }

    private HostLock() {}

    static <T> T holding(Path lockFile, IoSupplier<T> body) throws IOException {
        Path key = lockFile.toAbsolutePath().normalize();
        Files.createDirectories(key.getParent());
        ReentrantLock inJvm = IN_JVM.computeIfAbsent(key, k -> new ReentrantLock());
        inJvm.lock();
        try (FileChannel ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = ch.lock()) {
            return body.get();
        } finally {
            inJvm.unlock();
        }
    }
}
