"""Fault drills on one machine: a TCP proxy that can cut the links between nodes, and the topology that routes
a network folder's peer-to-peer traffic through it. For tests and rehearsals, never for a production network."""
