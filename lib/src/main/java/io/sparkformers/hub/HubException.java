package io.sparkformers.hub;

import java.io.IOException;

/** A Hugging Face Hub request that failed for a reason the user can fix; the message names the repo, file and fix. */
public class HubException extends IOException {

    /** Why the request failed (from the HTTP status and the Hub's {@code X-Error-Code} header). */
    public enum Reason {
        REPO_NOT_FOUND,
        REVISION_NOT_FOUND,
        ENTRY_NOT_FOUND,
        UNAUTHORIZED,
        FORBIDDEN,
        NOT_CACHED,
        CORRUPTED,
        UNREACHABLE,
        PROTOCOL
    }

    private final Reason reason;

    public HubException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public HubException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
