"""The OrderStore contract suite and the store APIs' contracts, run against every reachable backend."""
