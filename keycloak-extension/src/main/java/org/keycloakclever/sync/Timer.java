package org.keycloakclever.sync;

import org.jboss.logging.Logger;

/**
 * Where a batch's time goes, logged at DEBUG ({@code --log-level=org.keycloakclever.sync.Timer:debug}):
 * the snapshot ({@link Known}), the items' checks and lookups, their writes, and their flushes.
 */
final class Timer {

    private static final Logger LOG = Logger.getLogger(Timer.class);

    long known;
    private long checks;
    private long writes;
    private long flushes;
    private long mark;
    private int phase = -1;  // 0 checks, 1 writes, 2 flush, -1 between items

    void item() {
        close();
        mark = System.nanoTime();
        phase = 0;
    }

    void writing() {
        close();
        phase = 1;
    }

    void flushing() {
        close();
        phase = 2;
    }

    void done() {
        close();
        phase = -1;
    }

    private void close() {
        long now = System.nanoTime();
        if (phase == 0) {
            checks += now - mark;
        } else if (phase == 1) {
            writes += now - mark;
        } else if (phase == 2) {
            flushes += now - mark;
        }
        mark = now;
    }

    void log(int items) {
        close();
        phase = -1;
        if (!LOG.isDebugEnabled()) {
            return;
        }
        LOG.debugf("clever-sync: %d items: snapshot %d ms, checks %d ms, writes %d ms, flushes %d ms",
                items, known / 1_000_000, checks / 1_000_000, writes / 1_000_000, flushes / 1_000_000);
    }
}
