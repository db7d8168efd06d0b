// Each drill owns the machine's cores while it runs: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
