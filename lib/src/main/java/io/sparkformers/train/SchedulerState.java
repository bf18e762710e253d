package io.sparkformers.train;

import com.fasterxml.jackson.core.type.TypeReference;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code scheduler.json}: the state of torch's {@code LambdaLR} ({@code state_dict()} keys: {@code last_epoch},
 * {@code _step_count}, {@code base_lrs}, {@code _last_lr}, …) as JSON, because HF's {@code scheduler.pt} is a pickle.
 * Our schedules are pure functions of the step ({@link LrSchedule}), so {@code last_epoch} (optimizer steps taken)
 * is all a resume needs; the rest is written for readers who know torch's layout.
 *
 * @param lastEpoch  optimizer steps taken (torch counts scheduler steps as "epochs")
 * @param stepCount  torch's {@code _step_count}: lastEpoch + 1, because LambdaLR steps once when created
 * @param baseLrs    each parameter group's base learning rate
 * @param lastLrs    each group's learning rate for the next step
 */
public record SchedulerState(long lastEpoch, long stepCount, List<Double> baseLrs, List<Double> lastLrs) {

    public SchedulerState {
        baseLrs = List.copyOf(baseLrs);
        lastLrs = List.copyOf(lastLrs);
    }

    /** The state after {@code stepsTaken} optimizer steps under {@code schedule}. */
    public static SchedulerState after(long stepsTaken, List<Double> baseLrs, LrSchedule schedule) {
        List<Double> last = new ArrayList<>();
        for (double lr : baseLrs) last.add(schedule.lr(lr, stepsTaken));
        return new SchedulerState(stepsTaken, stepsTaken + 1, baseLrs, last);
    }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("base_lrs", baseLrs);
        m.put("last_epoch", lastEpoch);
        m.put("verbose", false);
        m.put("_step_count", stepCount);
        m.put("_get_lr_called_within_step", false);
        m.put("_last_lr", lastLrs);
        m.put("lr_lambdas", Arrays.asList(new Object[baseLrs.size()]));
        try {
            return Json.MAPPER.writeValueAsString(m) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static SchedulerState fromJson(String json) {
        try {
            Map<String, Object> m = Json.MAPPER.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
            long lastEpoch = ((Number) m.get("last_epoch")).longValue();
            Object sc = m.get("_step_count");
            return new SchedulerState(
                    lastEpoch,
                    sc instanceof Number n ? n.longValue() : lastEpoch + 1,
                    doubles(m.get("base_lrs")),
                    doubles(m.get("_last_lr")));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("scheduler.json is not a LambdaLR state: " + e.getMessage(), e);
        }
    }

    public void save(Path file) throws IOException {
        Files.writeString(file, toJson());
    }

    public static SchedulerState load(Path file) throws IOException {
        return fromJson(Files.readString(file));
    }

    private static List<Double> doubles(Object o) {
        List<Double> out = new ArrayList<>();
        if (o instanceof List<?> l) for (Object v : l) out.add(((Number) v).doubleValue());
        return out;
    }
}
