package io.sparkformers.hub;

import java.nio.file.Path;

/**
 * One model already on this machine, as {@code models list} shows it.
 *
 * @param kind   where it came from
 * @param name   the alias, the Hub repo id, or the source URI
 * @param detail the alias's description; for Hub snapshots the commit and the refs pointing at it; for executor
 *               copies the source's modification time
 * @param dir    the local checkpoint folder
 * @param bytes  its size on disk (links followed)
 */
public record CachedModel(Kind kind, String name, String detail, Path dir, long bytes) {

    public enum Kind {
        ALIAS,
        HUB,
        EXECUTOR_CACHE
    }
}
