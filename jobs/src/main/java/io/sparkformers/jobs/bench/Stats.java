package io.sparkformers.jobs.bench;

import java.util.Arrays;

/** The one median every benchmark reports. */
final class Stats {
    private Stats() {}

    /** The median of {@code values} (the mean of the middle two for an even count); the array is left as it was. */
    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
