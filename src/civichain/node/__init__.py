"""One department's node: typed configuration, the network folder, and the processes that make it up."""
