/**
 * Communication between model replicas, laid out as PyTorch c10d: a rendezvous (ranks publish a listening address
 * and join a ring, every connection authenticated with a job secret), a transport (framed, deadline-bound neighbour
 * links and failure propagation) and the algorithms over it (ring all-reduce, broadcast, all-gather), behind one
 * public collective; then DDP's gradient buckets and the trainer's data-parallel interface on top. Plain TCP with
 * DJL arrays: uses {@code train} (the interface it implements) and {@code nn}; must not use {@code spark} or
 * {@code org.apache.spark} (the Spark layer does the rendezvous through its barrier tasks).
 */
package io.sparkformers.distributed;
