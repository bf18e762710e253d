package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** Replicas encrypt their ring traffic whenever Spark encrypts its own, and on request. */
class CollectiveEncryptionSettingTest {

    @Test
    void ringTrafficIsEncryptedWithSparksNetworkEncryptionOrSslOrOnRequestAndOnlyThen() {
        assertFalse(DistributedTraining.collectiveOptions(new SparkConf(false)).encrypt());
        for (String key : new String[] {
            "spark.network.crypto.enabled",
            "spark.ssl.enabled",
            "spark.ssl.rpc.enabled",
            "spark.sparkformers.collective.encrypt"
        }) {
            assertTrue(
                    DistributedTraining.collectiveOptions(new SparkConf(false).set(key, "true"))
                            .encrypt(),
                    key);
            assertFalse(
                    DistributedTraining.collectiveOptions(new SparkConf(false).set(key, "false"))
                            .encrypt(),
                    key);
        }
    }
}
