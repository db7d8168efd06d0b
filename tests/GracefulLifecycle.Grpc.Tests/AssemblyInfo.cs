// A real process and wall-clock timing: one test at a time, so they do not measure each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
